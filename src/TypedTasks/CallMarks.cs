using System;

namespace TypedTasks;

/// <summary>
/// What a schedule or a workflow adds to a call it sends: they travel as envelope headers
/// and reach the task as <see cref="TaskContext.ScheduledFor"/> and <see cref="TaskContext.WorkflowId"/>.
/// </summary>
/// <param name="ScheduledFor">The fire time of a periodic run.</param>
/// <param name="WorkflowId">The workflow the task belongs to.</param>
internal readonly record struct CallMarks(DateTimeOffset? ScheduledFor = null, string? WorkflowId = null)
{
    public bool IsEmpty => ScheduledFor is null && WorkflowId is null;
}

using System;

namespace TypedTasks.Store;

/// <summary>A task to store: its encoded envelope and where it waits.</summary>
/// <param name="Envelope">The encoded envelope (docs/wire-format.md): the task's name, arguments and times.</param>
/// <param name="Priority">0 to <see cref="TaskDefaults.MaxPriority"/>; higher runs first.</param>
/// <param name="DueAt">When it may run; null or a past time: now (pending), else it is Scheduled until then.</param>
/// <param name="ChosenId">An id chosen by the caller (<see cref="EnqueueOptions.TaskId"/>): the task is enqueued at most once per queue under it.</param>
public readonly record struct TaskToEnqueue(ReadOnlyMemory<byte> Envelope, int Priority, DateTimeOffset? DueAt = null, string? ChosenId = null)
{
    /// <summary>
    /// The join this task is a workflow member of (<see cref="IWorkflowStore"/>), or null. A linked
    /// task needs a <see cref="ChosenId"/>: the store looks for links of tasks with one only.
    /// </summary>
    public WorkflowLink? Link { get; init; }
}

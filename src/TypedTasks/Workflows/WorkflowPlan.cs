using System.Collections.Generic;
using TypedTasks.Store;

namespace TypedTasks.Workflows;

/// <summary>
/// What a workflow sends: a first stage (one call, or a group's members whose results are joined
/// by <paramref name="Mode"/>) and the chain steps after it, each with its first argument open.
/// </summary>
/// <param name="Members">The first stage's calls.</param>
/// <param name="IsGroup">True when the first stage is a group (its result an array).</param>
/// <param name="Mode">How the first stage's outcomes reach the next step.</param>
/// <param name="Steps">The steps after it, in order.</param>
internal sealed record WorkflowPlan(IReadOnlyList<TaskCall> Members, bool IsGroup, JoinMode Mode, IReadOnlyList<TaskCall> Steps)
{
    public WorkflowPlan Then(TaskCall open)
    {
        TaskContinuations.OpenAt(open.Arguments.Span);
        return this with { Steps = [.. Steps, open] };
    }
}

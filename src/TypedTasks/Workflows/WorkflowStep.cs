using System;

namespace TypedTasks.Workflows;

/// <summary>
/// One step of a chain: <paramref name="Call"/>, made when the part before it succeeded, with that
/// part's result in place of its open first argument when <paramref name="TakesResult"/>, else as
/// it is (all its arguments bound).
/// </summary>
internal sealed record WorkflowStep(TaskCall Call, bool TakesResult)
{
    /// <summary><paramref name="call"/>, refused when it is null or the open call of a step (its first argument left for a previous result).</summary>
    public static TaskCall Full(TaskCall call, string parameter) => call is null
        ? throw new ArgumentNullException(parameter)
        : call.FirstOpen
            ? throw new ArgumentException($"{call.Task.Name}: this call has its first argument open (it is the Open of Tasks.X or Tasks.X.Bind(...)), but a call with every argument bound is expected here. Pass Tasks.X.Call(...) for a step that ignores the previous result, or Tasks.X / Tasks.X.Bind(...) itself for one that takes it. Nothing was sent.", parameter)
            : call;
}

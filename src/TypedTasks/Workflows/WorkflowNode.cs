using System;
using System.Collections.Generic;
using System.Linq;
using TypedTasks.Store;

namespace TypedTasks.Workflows;

/// <summary>
/// What a workflow sends, as a tree (docs/workflows.md): a call, a group of parts whose outcomes
/// are joined by a mode, or a part followed by a step that gets its result as its first argument.
/// </summary>
internal abstract record WorkflowNode
{
    /// <summary>This part followed by <paramref name="open"/>, a call whose first argument is open.</summary>
    public StepNode Then(TaskCall open)
    {
        TaskContinuations.OpenAt(open.Arguments.Span);
        return Then(new WorkflowStep(open, TakesResult: true));
    }

    /// <summary>This part followed by <paramref name="call"/>, a call with every argument bound: it runs without this part's result.</summary>
    public StepNode ThenCall(TaskCall call) => Then(new WorkflowStep(WorkflowStep.Full(call, nameof(call)), TakesResult: false));

    private StepNode Then(WorkflowStep step) => this is StepNode chain ? chain with { Steps = [.. chain.Steps, step] } : new StepNode(this, [step]);

    /// <summary>
    /// The client the workflow sends through: that of the first call bound to one with <c>WithClient</c>;
    /// null when no call is, for <see cref="TaskClient.Current"/>.
    /// </summary>
    public abstract TaskClient? Client { get; }

    /// <summary>The client of the first of <paramref name="calls"/> bound to one; null when none is.</summary>
    protected static TaskClient? FirstBound(IEnumerable<TaskCall> calls)
    {
        foreach (var call in calls)
        {
            if (call.BoundClient is { } client)
            {
                return client;
            }
        }

        return null;
    }
}

/// <summary>One call, its arguments all bound.</summary>
internal sealed record CallNode(TaskCall Call) : WorkflowNode
{
    public override TaskClient? Client => Call.BoundClient;
}

/// <summary>Parts that run in parallel; their outcomes reach what follows in member order, by <paramref name="Mode"/>.</summary>
internal sealed record GroupNode(IReadOnlyList<WorkflowNode> Members, JoinMode Mode) : WorkflowNode
{
    public override TaskClient? Client
    {
        get
        {
            foreach (var member in Members)
            {
                if (member.Client is { } client)
                {
                    return client;
                }
            }

            return null;
        }
    }
}

/// <summary>
/// <paramref name="Before"/>, then every one of <paramref name="Steps"/> at once, each with its result
/// (a group's: all of them) as its first argument: a fan-out, whose outcome is a group's (their
/// results in step order, joined by <paramref name="Mode"/>).
/// </summary>
internal sealed record FanNode(WorkflowNode Before, IReadOnlyList<TaskCall> Steps, JoinMode Mode) : WorkflowNode
{
    public override TaskClient? Client => Before.Client ?? FirstBound(Steps);

    /// <summary>This part, then every one of <paramref name="open"/> at once with its result.</summary>
    public static FanNode Of(WorkflowNode before, IEnumerable<TaskCall> open)
    {
        var steps = new List<TaskCall>();
        foreach (var step in open)
        {
            TaskContinuations.OpenAt((step ?? throw new ArgumentException($"Step {steps.Count} of the fan-out is null.", nameof(open))).Arguments.Span);
            steps.Add(step);
        }

        return steps.Count == 0
            ? throw new ArgumentException("A fan-out needs at least one step: each gets the previous result.", nameof(open))
            : new FanNode(before, steps, JoinMode.All);
    }
}

/// <summary>
/// <paramref name="Before"/> (a call, a group or a fan-out), then each of <paramref name="Steps"/> in turn, the
/// first with its result (a group's: all of them) as its first argument, each later one with the
/// result of the step before it; a step that takes no result runs after it with its own arguments.
/// A chain is one node, however long, so nothing recurses per step.
/// </summary>
internal sealed record StepNode(WorkflowNode Before, IReadOnlyList<WorkflowStep> Steps) : WorkflowNode
{
    public override TaskClient? Client => Before.Client ?? FirstBound(Steps.Select(step => step.Call));
}

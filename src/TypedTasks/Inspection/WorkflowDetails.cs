using System.Collections.Generic;
using System.Linq;

namespace TypedTasks.Inspection;

/// <summary>A workflow, from its first stages to the step asked about, and where it stopped.</summary>
/// <param name="WorkflowId">The workflow's id (the prefix of its tasks' ids).</param>
/// <param name="Stages">
/// Its stages that lead to the step asked about, in the order they complete (a member chain's steps
/// before the chord that waits for them); the last one makes the step asked about.
/// </param>
public sealed record WorkflowDetails(string WorkflowId, IReadOnlyList<WorkflowStage> Stages)
{
    /// <summary>The id of the step the whole workflow ends with (its handle), when the store keeps it: ask for it to see every stage.</summary>
    public string? Handle { get; init; }

    /// <summary>
    /// The state of the step the last stage made (the step asked about), once it is made and while
    /// it is stored; null before (its stage is open or failed) and after its record is gone.
    /// </summary>
    public TaskState? StepState { get; init; }

    /// <summary>
    /// The index in <see cref="Stages"/> of the stage where the workflow stopped, or -1 while it has
    /// not. That is the first stage ended by a member that failed or expired; the stages a failure
    /// canceled in turn (a sibling chain whose first task had not started, the steps after) did not
    /// stop it, nor did a member chain's failure that an <c>AllSettled()</c> group took as its outcome.
    /// With no such stage, the first that ended without its step (the workflow was canceled); with
    /// none, the last stage when its step itself failed, expired or was canceled.
    /// </summary>
    public int StoppedAt
    {
        get
        {
            var canceled = -1;
            for (var i = 0; i < Stages.Count; i++)
            {
                if (Stages[i].State != "failed" || Absorbed(i, 0))
                {
                    continue;
                }

                if (Stages[i].Outcomes.Values.Any(IsCause))
                {
                    return i;
                }

                canceled = canceled < 0 ? i : canceled;
            }

            return canceled >= 0 ? canceled
                : StepState is TaskState.Failed or TaskState.Expired or TaskState.Canceled && Stages.Count > 0 ? Stages.Count - 1
                : -1;
        }
    }

    /// <summary>
    /// Where it is: "done", "waiting for 3 of 10 members of &lt;step&gt;", "waiting for &lt;step&gt;
    /// (Started)", "stopped at &lt;step&gt;: member &lt;id&gt; Failed" or "stopped at &lt;step&gt;: the step Failed".
    /// </summary>
    public string Where
    {
        get
        {
            if (StoppedAt is var s and >= 0)
            {
                var stage = Stages[s];
                if (stage.State == "done")
                {
                    return $"stopped at {stage.StepId}: the step {StepState}";
                }

                var bad = stage.Outcomes.Where(o => IsCause(o.Value)).Concat(stage.Outcomes.Where(o => o.Value != TaskState.Succeeded))
                    .Select(o => $"member {stage.MemberIds[o.Key]} {o.Value}").FirstOrDefault();
                return $"stopped at {stage.StepId}: " + (bad ?? "canceled");
            }

            if (Stages.FirstOrDefault(s => s.State == "open") is { } open)
            {
                return $"waiting for {open.Members - open.Arrived} of {open.Members} members of {open.StepId}";
            }

            return StepState is { } state && !state.IsFinal() && Stages.Count > 0 ? $"waiting for {Stages[^1].StepId} ({state})" : "done";
        }
    }

    /// <summary>
    /// Whether stage <paramref name="i"/>'s step is a member of a stage that ended done, directly or
    /// through stages that are themselves such members: its failure was an outcome an
    /// <c>AllSettled()</c> group took, not a stop (a group that is not settled fails with its member).
    /// </summary>
    private bool Absorbed(int i, int depth)
    {
        if (depth > Stages.Count)
        {
            return false;
        }

        var step = Stages[i].StepId;
        for (var j = 0; j < Stages.Count; j++)
        {
            if (j != i && Stages[j].MemberIds.Contains(step) && (Stages[j].State == "done" || Absorbed(j, depth + 1)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a member's outcome stops a workflow by itself (a canceled member was stopped by something else).</summary>
    internal static bool IsCause(TaskState outcome) => outcome is TaskState.Failed or TaskState.Expired;
}

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
    /// The index in <see cref="Stages"/> of the stage where the workflow stopped, or -1 while it has
    /// not. That is the first stage ended by a member that failed or expired; the stages a failure
    /// canceled in turn (a sibling chain whose first task had not started, the steps after) did not
    /// stop it. With no such stage, the first that ended without its step (the workflow was canceled).
    /// </summary>
    public int StoppedAt
    {
        get
        {
            var canceled = -1;
            for (var i = 0; i < Stages.Count; i++)
            {
                if (Stages[i].State != "failed")
                {
                    continue;
                }

                if (Stages[i].Outcomes.Values.Any(IsCause))
                {
                    return i;
                }

                canceled = canceled < 0 ? i : canceled;
            }

            return canceled;
        }
    }

    /// <summary>Where it is: "done", "waiting for 3 of 10 members of &lt;step&gt;", or "stopped at &lt;step&gt;: member &lt;id&gt; Failed".</summary>
    public string Where
    {
        get
        {
            if (StoppedAt is var s and >= 0)
            {
                var stage = Stages[s];
                var bad = stage.Outcomes.Where(o => IsCause(o.Value)).Concat(stage.Outcomes.Where(o => o.Value != TaskState.Succeeded))
                    .Select(o => $"member {stage.MemberIds[o.Key]} {o.Value}").FirstOrDefault();
                return $"stopped at {stage.StepId}: " + (bad ?? "canceled");
            }

            return Stages.FirstOrDefault(s => s.State == "open") is { } open
                ? $"waiting for {open.Members - open.Arrived} of {open.Members} members of {open.StepId}"
                : "done";
        }
    }

    /// <summary>Whether a member's outcome stops a workflow by itself (a canceled member was stopped by something else).</summary>
    internal static bool IsCause(TaskState outcome) => outcome is TaskState.Failed or TaskState.Expired;
}

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

    /// <summary>Where it is: "done", "waiting for 3 of 10 members of &lt;step&gt;", or "stopped at &lt;step&gt;: member &lt;id&gt; Failed".</summary>
    public string Where
    {
        get
        {
            foreach (var stage in Stages)
            {
                if (stage.State == "failed")
                {
                    var bad = stage.Outcomes.Where(o => o.Value != TaskState.Succeeded).Select(o => $"member {stage.MemberIds[o.Key]} {o.Value}").FirstOrDefault();
                    return $"stopped at {stage.StepId}: " + (bad ?? "canceled");
                }

                if (stage.State == "open")
                {
                    return $"waiting for {stage.Members - stage.Arrived} of {stage.Members} members of {stage.StepId}";
                }
            }

            return "done";
        }
    }
}

using System.Collections.Generic;
using System.Linq;

namespace TypedTasks.Inspection;

/// <summary>A workflow, from its first stage to the step asked about, and where it stopped.</summary>
/// <param name="WorkflowId">The workflow's id (the prefix of its tasks' ids).</param>
/// <param name="Stages">Its stages in order; the last one makes the step asked about.</param>
public sealed record WorkflowDetails(string WorkflowId, IReadOnlyList<WorkflowStage> Stages)
{
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

using System.Collections.Generic;

namespace TypedTasks.Inspection;

/// <summary>One stage of a workflow as <see cref="ITaskInspector.GetWorkflowAsync"/> shows it: a step (or a group's result) and the members it waits for.</summary>
/// <param name="StepId">The id of the step this stage makes (a chain step, a chord's callback, a group's result).</param>
/// <param name="State">"open" (waiting for members), "done" (the step was made) or "failed" (a member failed or the workflow was canceled: the step ended without running).</param>
/// <param name="Members">How many members it waits for.</param>
/// <param name="Arrived">How many of them have ended.</param>
/// <param name="MemberIds">The members' ids, in order.</param>
/// <param name="Outcomes">Per member that ended, its index and final state.</param>
public sealed record WorkflowStage(string StepId, string State, int Members, int Arrived, IReadOnlyList<string> MemberIds, IReadOnlyDictionary<int, TaskState> Outcomes);

using System.Collections.Generic;

namespace TypedTasks.Store;

/// <summary>A workflow join as stored: how far it got.</summary>
/// <param name="Key">The join's key (its successor's chosen id).</param>
/// <param name="WorkflowId">The workflow it belongs to.</param>
/// <param name="Members">How many members it waits for.</param>
/// <param name="Arrived">How many members have ended (each counted once).</param>
/// <param name="State">"open" (waiting), "done" (its successor was made) or "failed" (a member failed: the successor ended without running).</param>
/// <param name="Outcomes">Per member that ended, its index and final state.</param>
/// <param name="MemberIds">The members' ids, in order.</param>
public sealed record JoinInfo(string Key, string WorkflowId, int Members, int Arrived, string State, IReadOnlyDictionary<int, TaskState> Outcomes, IReadOnlyList<string> MemberIds)
{
    /// <summary>The id of the step the workflow ends with (its handle), as the join was written with it; null when it was not.</summary>
    public string? WorkflowHandle { get; init; }
}

namespace TypedTasks.Store;

/// <summary>
/// Where a workflow member's outcome goes when it ends: member <paramref name="Index"/> of the join
/// <paramref name="Join"/>, kept in the queue <paramref name="Queue"/> (the queue its successor runs on).
/// </summary>
/// <param name="Queue">The queue of the join (its successor's queue).</param>
/// <param name="Join">The join's key, which is also its successor's chosen id.</param>
/// <param name="Index">The member's place in the join (0-based): its result's place in the successor's argument.</param>
public sealed record WorkflowLink(string Queue, string Join, int Index);

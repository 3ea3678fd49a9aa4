using System;

namespace TypedTasks.Inspection;

/// <summary>A unique lock of a queue, as tools show it (<see cref="ITaskInspector.GetLocksAsync"/>).</summary>
public sealed record LockSummary
{
    /// <summary>The queue it is held in.</summary>
    public required string Queue { get; init; }

    /// <summary>The unique key: the task's name and a hash of the arguments it is unique by.</summary>
    public required string Key { get; init; }

    /// <summary>The task an enqueue with the key returns while the lock holds.</summary>
    public required string TaskId { get; init; }

    /// <summary>When the lock lapses even if its task is not final.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}

using System.Collections.Generic;
using TypedTasks.Store;

namespace TypedTasks.Inspection;

/// <summary>One queue as tools show it.</summary>
public sealed record QueueSummary
{
    /// <summary>The queue's name.</summary>
    public required string Name { get; init; }

    /// <summary>How many of its tasks are in each state (final states: what their capped index keeps).</summary>
    public required StateCounts Counts { get; init; }

    /// <summary>The ids of the live workers that serve it, in name order.</summary>
    public required IReadOnlyList<string> Workers { get; init; }

    /// <summary>True when tasks wait to run (pending, scheduled, retrying or running) and no live worker serves the queue.</summary>
    public bool Unserved => Workers.Count == 0 && Counts.Pending + Counts.Scheduled + Counts.Retrying + Counts.Started > 0;
}

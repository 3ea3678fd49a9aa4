using System;
using System.Collections.Generic;

namespace TypedTasks.Inspection;

/// <summary>A live worker as tools show it.</summary>
public sealed record WorkerSummary
{
    /// <summary>The worker's id in the store.</summary>
    public required string Id { get; init; }

    /// <summary>The machine it runs on.</summary>
    public required string Host { get; init; }

    /// <summary>Its process id.</summary>
    public required int Pid { get; init; }

    /// <summary>The queues it serves, in its order.</summary>
    public required IReadOnlyList<string> Queues { get; init; }

    /// <summary>How many tasks it runs at once; 0 when it did not publish it.</summary>
    public required int Concurrency { get; init; }

    /// <summary>The ids of the tasks it held at its last heartbeat.</summary>
    public required IReadOnlyList<string> Running { get; init; }

    /// <summary>The names of the tasks it can run; null when it did not publish them.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    /// <summary>When its last heartbeat was written.</summary>
    public required DateTimeOffset LastSeen { get; init; }

    /// <summary>How long ago that was, when the inspector read it.</summary>
    public required TimeSpan HeartbeatAge { get; init; }
}

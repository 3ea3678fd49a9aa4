using System;
using System.Collections.Generic;
using System.Linq;

namespace TypedTasks.Transport;

/// <summary>A worker with a live heartbeat, as a broker reports it to any process.</summary>
/// <param name="Id">The worker's id on the broker.</param>
/// <param name="Host">The machine it runs on.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="Queues">The queues it serves.</param>
/// <param name="Tasks">The names of the tasks it can run; null when it did not publish them (an older worker, or its heartbeat not yet written).</param>
public sealed record LiveWorker(string Id, string Host, int Pid, IReadOnlyList<string> Queues, IReadOnlyList<string>? Tasks)
{
    /// <summary>How many tasks it runs at once; 0 when not published.</summary>
    public int Concurrency { get; init; }

    /// <summary>The ids of the tasks it holds (running, or fetched and about to run) at its last heartbeat.</summary>
    public IReadOnlyList<string> Running { get; init; } = [];

    /// <summary>When its last heartbeat was written.</summary>
    public DateTimeOffset LastSeen { get; init; }

    /// <summary>Whether this worker is known to run <paramref name="taskName"/>; true when it did not publish its tasks.</summary>
    public bool MayRun(string taskName) => Tasks is null || Tasks.Contains(taskName, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => $"{Id} (host {Host}, pid {Pid})";
}

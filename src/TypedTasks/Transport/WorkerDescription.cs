using System.Collections.Generic;

namespace TypedTasks.Transport;

/// <summary>A running worker as tools see it.</summary>
/// <param name="Queues">The queues it serves, in order.</param>
/// <param name="Concurrency">How many tasks it runs at once.</param>
/// <param name="Status">Its live counters.</param>
/// <param name="Tasks">The names of the tasks it can run, published with its heartbeat; null when not given.</param>
public sealed record WorkerDescription(IReadOnlyList<string> Queues, int Concurrency, WorkerStatus Status, IReadOnlyList<string>? Tasks = null);

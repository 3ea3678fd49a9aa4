using System;

namespace TypedTasks.Store;

/// <summary>A limit of a queue in use (<see cref="ITaskStore.GetLimitsAsync"/>): what it allows, what it counts now and how many tasks it holds back.</summary>
/// <param name="Key">The limit's key (<see cref="TaskLimit.Key"/>).</param>
/// <param name="Count">How many at once (concurrency) or per window (rate), as the last task that met it carried.</param>
/// <param name="Per">The rate window, or null for a concurrency limit.</param>
/// <param name="Active">Concurrency: how many of its tasks run now; rate: how many started in the current window.</param>
/// <param name="Held">How many of its tasks wait for it (Pending, held back).</param>
public sealed record StoredLimit(string Key, int Count, TimeSpan? Per, long Active, long Held);

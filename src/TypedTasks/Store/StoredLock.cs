using System;

namespace TypedTasks.Store;

/// <summary>A unique lock of a queue (<see cref="ITaskStore.GetLocksAsync"/>): the key, the task that holds it, and when it lapses at the latest.</summary>
/// <param name="Key">The unique key (<see cref="TaskToEnqueue.UniqueKey"/>).</param>
/// <param name="TaskId">The task an enqueue with the key returns while the lock holds.</param>
/// <param name="ExpiresAt">When the lock lapses even if its task is not final (<see cref="TaskToEnqueue.UniqueFor"/> after it was taken).</param>
public sealed record StoredLock(string Key, string TaskId, DateTimeOffset ExpiresAt);

using System;

namespace TypedTasks.InMemory;

/// <summary>How an <see cref="InMemoryTaskStore"/> times leases and sizes its indexes; the defaults suit an application.</summary>
public sealed class InMemoryTaskStoreOptions
{
    /// <summary>
    /// How long a fetched task stays leased without a heartbeat before <see cref="InMemoryTaskStore.RecoverAsync"/>
    /// gives it to another fetch (30 s). Workers renew their leases every third of it.
    /// </summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a fetch waits for work before it returns empty, so that its caller can promote and recover (1 s).</summary>
    public TimeSpan IdleFetchInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a worker stays listed after its last heartbeat (30 s).</summary>
    public TimeSpan WorkerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many of the most recent ids each queue's succeeded, canceled and expired indexes keep (1,000).</summary>
    public int RecentIndexSize { get; init; } = 1_000;

    /// <summary>How many of the most recent ids each queue's failed (dead) index keeps (10,000).</summary>
    public int FailedIndexSize { get; init; } = 10_000;
}

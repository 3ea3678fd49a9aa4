using System;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// What a conformance test asks of the store it gets: every value here is one both stores take in
/// their constructor, so that a test can shorten a lease or a TTL to see what happens when it ends.
/// </summary>
/// <param name="ResultTtl">How long a final record is kept.</param>
/// <param name="LeaseDuration">How long a fetched task stays leased without a heartbeat.</param>
/// <param name="IdleFetchInterval">How long a fetch waits for work before it returns empty.</param>
/// <param name="WorkerTimeout">How long a worker stays listed after its last heartbeat.</param>
/// <param name="RecentCap">How many ids the succeeded, canceled and expired indexes keep.</param>
/// <param name="FailedCap">How many ids the failed index keeps.</param>
public sealed record StoreSettings(
    TimeSpan ResultTtl,
    TimeSpan LeaseDuration,
    TimeSpan IdleFetchInterval,
    TimeSpan WorkerTimeout,
    int RecentCap,
    int FailedCap)
{
    /// <summary>Long enough that nothing ends by itself during a test; a fetch on an empty queue returns soon.</summary>
    public static StoreSettings Default { get; } = new(
        ResultTtl: TimeSpan.FromMinutes(10),
        LeaseDuration: TimeSpan.FromMinutes(5),
        IdleFetchInterval: TimeSpan.FromMilliseconds(200),
        WorkerTimeout: TimeSpan.FromMinutes(1),
        RecentCap: 1_000,
        FailedCap: 10_000);
}

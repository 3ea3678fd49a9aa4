using System;

namespace TypedTasks;

/// <summary>Settings of the Redis task store; bound from <c>TypedTasks:RedisTransport</c>.</summary>
public sealed class RedisTransportOptions
{
    /// <summary>The first part of every key and channel. Default <c>tt</c>.</summary>
    public string KeyPrefix { get; set; } = "tt";

    /// <summary>How many tasks a queue's failed (dead) index keeps, newest first: failed for good, or unable to run. A task past the cap keeps its record until the result TTL. Default 10,000.</summary>
    public int DeadLetterLimit { get; set; } = 10_000;

    /// <summary>
    /// How many tasks each of a queue's succeeded, canceled and expired indexes of the task store
    /// keeps, newest first (the failed index keeps <see cref="DeadLetterLimit"/>). A task past the
    /// cap keeps its record until the result TTL. Default 1,000.
    /// </summary>
    public int FinalIndexLimit { get; set; } = 1_000;

    /// <summary>
    /// How long a task fetched from the task store stays leased to its worker without a heartbeat
    /// before another worker may take it back; null (the default): <see cref="WorkerTimeout"/>.
    /// </summary>
    public TimeSpan? LeaseDuration { get; set; }

    /// <summary>How often a worker renews its heartbeat. Default 3 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long after its last heartbeat a worker drops out of the live workers; also the lease of its tasks unless <see cref="LeaseDuration"/> is set (a killed worker's tasks come back once it passes). Default 15 s.</summary>
    public TimeSpan WorkerTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The longest an idle fetch waits for a wake-up before it returns empty (the worker then
    /// fetches again). It looks at its queues once more before returning only when a wake-up came
    /// meanwhile or its last look is older than <see cref="SafetyLookInterval"/>. Default 5 s.
    /// </summary>
    public TimeSpan IdleFetchInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a worker looks at each of its queues for work nothing announced: a wake-up lost,
    /// a workflow outcome left in an outbox by a process that stopped, a lease of a process
    /// outside the lease registry, an entry written by hand. Every path that makes a task
    /// fetchable or due announces it, and a stopped worker's leases are found through the lease
    /// registry, so this look is a safety net; each look costs about one command per queue. A
    /// worker of more than 10 queues looks at them less often, in proportion (100 queues: every
    /// 10 minutes at the default), so that what these looks cost does not grow with the number
    /// of queues: lower the interval for a tighter bound. Default 60 s.
    /// </summary>
    public TimeSpan SafetyLookInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The tick of the sweep that reads waiting callers' states again in case a notification was
    /// lost: a caller is read first after one tick, then after 2, 4, 8 and at most every 16 ticks;
    /// all are read at once when the subscription comes back after a reconnect. Default 2 s.
    /// </summary>
    public TimeSpan ResultPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>What a key prefix must be, in one sentence.</summary>
    public const string KeyPrefixRule = "a key prefix is not empty or blank and holds no braces (braces would break the {queue} hash tag), such as \"tt\" or \"shop\"";

    /// <summary>Why <paramref name="prefix"/> cannot be a key prefix, or null when it can: the one rule the store, the host and the CLI check.</summary>
    public static string? KeyPrefixProblem(string? prefix)
        => string.IsNullOrWhiteSpace(prefix) || prefix.AsSpan().IndexOfAny('{', '}') >= 0
            ? $"'{prefix}' is not a valid key prefix: {KeyPrefixRule}"
            : null;

    internal void Validate()
    {
        Check(DeadLetterLimit > 0, nameof(DeadLetterLimit), DeadLetterLimit);
        Check(FinalIndexLimit > 0, nameof(FinalIndexLimit), FinalIndexLimit);
        Check(LeaseDuration is null || LeaseDuration > HeartbeatInterval * 2, nameof(LeaseDuration), LeaseDuration!, "more than twice HeartbeatInterval");
        Check(HeartbeatInterval > TimeSpan.Zero, nameof(HeartbeatInterval), HeartbeatInterval);
        Check(WorkerTimeout > HeartbeatInterval * 2, nameof(WorkerTimeout), WorkerTimeout, "more than twice HeartbeatInterval");
        Check(IdleFetchInterval > TimeSpan.Zero, nameof(IdleFetchInterval), IdleFetchInterval);
        Check(SafetyLookInterval > TimeSpan.Zero, nameof(SafetyLookInterval), SafetyLookInterval);
        Check(ResultPollInterval > TimeSpan.Zero, nameof(ResultPollInterval), ResultPollInterval);
    }

    private static void Check(bool ok, string name, object value, string rule = "positive")
    {
        if (!ok)
        {
            throw new InvalidOperationException($"TypedTasks:RedisTransport:{name} must be {rule} (it is {value}).");
        }
    }
}

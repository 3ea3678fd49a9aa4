using System;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Every Redis key and channel TypedTasks uses (docs/redis-layout.md). All keys of a queue carry
/// the hash tag <c>{queue}</c>, so every script touches a single slot and runs on Redis Cluster.
/// </summary>
internal sealed class RedisKeys
{
    public const int PriorityLevels = TaskDefaults.MaxPriority + 1;
    private readonly string _prefix;

    /// <summary>The rule of a key prefix in words, for error messages.</summary>
    public const string PrefixRule = "a key prefix is not empty or blank and holds no braces (braces would break the {queue} hash tag), such as \"tt\" or \"shop\"";

    public RedisKeys(string prefix)
    {
        if (PrefixProblem(prefix) is { } problem)
        {
            throw new ArgumentException(problem + ".", nameof(prefix));
        }

        _prefix = prefix;
        Wake = RedisChannel.Literal(prefix + ":wake");
        Done = RedisChannel.Literal(prefix + ":done");
        Cancel = RedisChannel.Literal(prefix + ":cancel");
    }

    /// <summary>Published with a task id when the task is canceled, for the workers running it.</summary>
    public RedisChannel Cancel { get; }

    /// <summary>Published with a queue name when it gets messages after being empty, or an earlier scheduled one.</summary>
    public RedisChannel Wake { get; }

    /// <summary>Published with a task id when the task reaches a final state.</summary>
    public RedisChannel Done { get; }

    public string Prefix => _prefix;

    public RedisKey Ready(string queue, int priority) => $"{Tag(queue)}:ready:{priority}";

    /// <summary>The ready lists of priorities 0 to 9, in that order, followed by <paramref name="extra"/> slots.</summary>
    public RedisKey[] ReadyLists(string queue, int leading = 0, int extra = 0)
    {
        var keys = new RedisKey[leading + PriorityLevels + extra];
        for (var level = 0; level < PriorityLevels; level++)
        {
            keys[leading + level] = Ready(queue, level);
        }

        return keys;
    }

    public RedisKey Scheduled(string queue) => $"{Tag(queue)}:scheduled";

    public RedisKey InFlight(string queue, string workerId) => $"{Tag(queue)}:inflight:{workerId}";

    public RedisKey Workers(string queue) => $"{Tag(queue)}:workers";

    public RedisKey Dead(string queue) => $"{Tag(queue)}:dead";

    public RedisKey Result(string id) => $"{_prefix}:result:{id}";

    /// <summary>A hash describing a live worker, for tools; it expires with the worker's heartbeat.</summary>
    public RedisKey WorkerInfo(string workerId) => $"{_prefix}:worker:{workerId}";

    public static void CheckQueue(string queue) => QueueName.Check(queue);

    /// <summary>Why <paramref name="prefix"/> cannot be a key prefix, starting with the prefix itself; null when it can.</summary>
    public static string? PrefixProblem(string? prefix)
        => string.IsNullOrWhiteSpace(prefix) || prefix.AsSpan().IndexOfAny('{', '}') >= 0
            ? $"'{prefix}' is not a valid key prefix: {PrefixRule}"
            : null;

    private string Tag(string queue) => $"{_prefix}:{{{queue}}}";
}

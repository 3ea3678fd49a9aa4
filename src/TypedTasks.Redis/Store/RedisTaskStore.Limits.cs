using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Serialization;
using TypedTasks.Store;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Rate and concurrency limits and unique locks, read for tools. The limits themselves travel in
/// each limited task's record and are kept by the fetch, complete, recover and promote scripts
/// (Scripts/shared.lua, "limits"; docs/flow-control.md).
/// </summary>
public sealed partial class RedisTaskStore
{
    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredLimit>> GetLimitsAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var args = Args(_time.GetUtcNow(), 1);
        args.Add(max);
        var all = (RedisResult[])(await RunAsync(StoreScript.Limits, [SeqKey(queue)], args).ConfigureAwait(false))!;
        var limits = new List<StoredLimit>(all.Length / 5);
        for (var i = 0; i + 4 < all.Length; i += 5)
        {
            var gate = (string)all[i]!;
            var per = (long)all[i + 2];
            limits.Add(new StoredLimit(gate[2..], (int)(long)all[i + 1], per > 0 ? TimeSpan.FromMilliseconds(per) : null, (long)all[i + 3], (long)all[i + 4]));
        }

        return [.. limits.OrderBy(l => l.Key, StringComparer.Ordinal).ThenBy(l => l.Per is not null)];
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredTask>> ListHeldAsync(string queue, TaskLimit limit, long offset, int count, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentException.ThrowIfNullOrEmpty(limit.Key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return [];
        }

        var args = Args(_time.GetUtcNow(), 3);
        args.Add(Gate(limit));
        args.Add(offset);
        args.Add(count);
        return await PageAsync(queue, (RedisResult[])(await RunAsync(StoreScript.Held, [SeqKey(queue)], args).ConfigureAwait(false))!).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredLock>> GetLocksAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var args = Args(_time.GetUtcNow(), 1);
        args.Add(max);
        var all = (RedisResult[])(await RunAsync(StoreScript.Locks, [SeqKey(queue)], args).ConfigureAwait(false))!;
        var locks = new List<StoredLock>(all.Length / 3);
        for (var i = 0; i + 2 < all.Length; i += 3)
        {
            locks.Add(new StoredLock((string)all[i]!, (string)all[i + 1]!, DateTimeOffset.FromUnixTimeMilliseconds((long)all[i + 2])));
        }

        return locks;
    }

    /// <summary>The name the scripts give a limit: <c>c:</c> or <c>r:</c>, then its key.</summary>
    private static string Gate(TaskLimit limit) => (limit.IsConcurrency ? "c:" : "r:") + limit.Key;

    /// <summary>
    /// A task's limits as its record keeps them: a MessagePack array of [key, count, window ms (0:
    /// concurrency)]. A key that starts with the name of the task the envelope names is kept
    /// without it (the scripts put it back from the envelope, or from the record's name once the
    /// envelope is gone), so that a small limited task's record stays in its bucket.
    /// </summary>
    private static byte[] LimitsBytes(IReadOnlyList<TaskLimit> limits, ReadOnlyMemory<byte> envelope)
    {
        // Only a version 2 envelope ([2, name, ...]), whose name the scripts read back.
        // A name of at most 255 bytes, as the scripts read it back and a record keeps it.
        var name = envelope.Length > 2 && envelope.Span[1] == 2 ? TaskEnvelope.TryReadTaskName(envelope) : null;
        if (name is not null && System.Text.Encoding.UTF8.GetByteCount(name) > 255)
        {
            name = null;
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(limits.Count);
        foreach (var limit in limits)
        {
            writer.WriteArrayHeader(3);
            writer.Write(name is not null && limit.Key.StartsWith(name, StringComparison.Ordinal) && (limit.Key.Length == name.Length || limit.Key[name.Length] == '|')
                ? limit.Key[name.Length..]
                : limit.Key);
            writer.Write(limit.Count);
            writer.Write(limit.Per is { } per ? (long)Math.Ceiling(per.TotalMilliseconds) : 0);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}

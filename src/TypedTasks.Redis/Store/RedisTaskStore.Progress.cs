using System;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Store;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Progress: P:{q}:p:&lt;seq&gt;, the latest value a running task reported, written by progress.lua
/// only under the run's fence and kept for the queue's result TTL. It is a plain key beside the
/// record, so that a run's many reports never rewrite the record or its bucket.
/// </summary>
public sealed partial class RedisTaskStore
{
    /// <inheritdoc/>
    public async ValueTask<bool> SetProgressAsync(TaskLease lease, ReadOnlyMemory<byte> progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!TaskIds.TrySplit(lease.Id, out var queue, out var own))
        {
            return false;
        }

        var args = Args(_time.GetUtcNow(), 4);
        args.Add("set");
        args.Add(own);
        args.Add(lease.Fence);
        args.Add(progress);
        return (long)await RunAsync(StoreScript.Progress, [SeqKey(queue)], args).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    public async ValueTask<StoredProgress?> GetProgressAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!TaskIds.TrySplit(id, out var queue, out var own))
        {
            return null;
        }

        var args = Args(_time.GetUtcNow(), 2);
        args.Add("get");
        args.Add(own);
        var answer = (RedisResult[])(await RunAsync(StoreScript.Progress, [SeqKey(queue)], args).ConfigureAwait(false))!;
        return answer.Length < 3 ? null
            : new StoredProgress((byte[])answer[2]!, (int)(long)answer[0], DateTimeOffset.FromUnixTimeMilliseconds((long)answer[1]));
    }
}

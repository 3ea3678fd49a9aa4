using System;
using System.Diagnostics.CodeAnalysis;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Task ids of the Redis store: <c>&lt;epoch&gt;-&lt;seq&gt;@&lt;queue&gt;</c> or
/// <c>&lt;chosen&gt;@&lt;queue&gt;</c>. The queue (after the last '@': queue names hold none)
/// gives the hash slot; the scripts resolve the part before it.
/// </summary>
internal static class TaskIds
{
    /// <summary>Splits an id; false when it is not one of this store's (no queue, or an invalid one).</summary>
    public static bool TrySplit(string id, [NotNullWhen(true)] out string? queue, [NotNullWhen(true)] out string? own)
    {
        if (TryQueueOf(id, out queue))
        {
            own = id[..^(queue.Length + 1)];
            return true;
        }

        own = null;
        return false;
    }

    /// <summary>The queue of an id, as <see cref="TrySplit"/> finds it, without the rest.</summary>
    public static bool TryQueueOf(string id, [NotNullWhen(true)] out string? queue)
    {
        var at = id.LastIndexOf('@');
        if (at > 0 && at < id.Length - 1 && QueueName.IsValid(id.AsSpan(at + 1)))
        {
            queue = id[(at + 1)..];
            return true;
        }

        queue = null;
        return false;
    }
}

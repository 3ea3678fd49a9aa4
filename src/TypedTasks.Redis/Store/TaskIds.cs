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

    /// <summary>
    /// The sequence of an id the store made (<c>&lt;8 hex digits&gt;-&lt;digits&gt;@queue</c>), its
    /// place in its queue's run order; 0 for a chosen id. (A chosen id of that form with another
    /// epoch reads as a sequence too: it only orders leases sent back unstarted.)
    /// </summary>
    public static long RunOrderOf(string id)
    {
        var at = id.LastIndexOf('@');
        if (at < 10 || id[8] != '-' || !long.TryParse(id.AsSpan(9, at - 9), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq))
        {
            return 0;
        }

        foreach (var c in id.AsSpan(0, 8))
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return 0;
            }
        }

        return seq;
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

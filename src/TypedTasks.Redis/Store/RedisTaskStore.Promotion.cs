using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Promotion without looking at idle queues. Per queue the store keeps the earliest due time it
/// knows of: the one the promote script answered, lowered by every announcement since (a script
/// that makes something due announces the earliest such time per queue on the wake channel: a
/// task scheduled, a retry settled, a limit's timer) and by every retry this store settled. A
/// queue with nothing known to be due is left out of the call; it is looked at anyway once per
/// <see cref="RedisTransportOptions.SafetyLookInterval"/>, longer for a worker of many queues (a message lost, a writer that does not
/// announce), and after a reconnect of the subscription every queue is.
/// </summary>
public sealed partial class RedisTaskStore
{
    private readonly ConcurrentDictionary<string, DueWatch> _due = new(StringComparer.Ordinal);
    private readonly List<Action> _dueWatchers = [];

    /// <inheritdoc/>
    /// <remarks>
    /// Heard on the wake channel, which the store subscribes to once for all its duties, and from
    /// this store's own settles of retries; a reconnect of the subscription calls
    /// <paramref name="heard"/> too, and the next promotion looks at every queue.
    /// </remarks>
    public async ValueTask<IAsyncDisposable> WatchDueTimesAsync(Action heard, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heard);
        await _wake.EnsureAsync().ConfigureAwait(false);
        return new Watchers(_dueWatchers, heard);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A queue not looked at yet, or since a reconnect, is due a look at once; each other once per
    /// <see cref="RedisTransportOptions.SafetyLookInterval"/> (longer for a worker of many queues).
    /// </remarks>
    public DateTimeOffset NextPromotionLook(IReadOnlyList<string> queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var every = SafetyLookEvery(queues.Count);
        var recheck = (long)every.TotalMilliseconds;
        var next = long.MaxValue;
        foreach (var queue in queues)
        {
            if (!_due.TryGetValue(queue, out var watch))
            {
                return _time.GetUtcNow();
            }

            lock (watch)
            {
                next = Math.Min(next, watch.CheckedAt + recheck);
            }
        }

        return next == long.MaxValue ? _time.GetUtcNow() + every : DateTimeOffset.FromUnixTimeMilliseconds(next);
    }

    /// <inheritdoc/>
    public async ValueTask<DateTimeOffset?> PromoteDueAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        var checkedQueues = Checked(queues);

        // Subscribed first: an announcement made after this point is heard.
        await _wake.EnsureAsync().ConfigureAwait(false);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var recheck = (long)SafetyLookEvery(checkedQueues.Count).TotalMilliseconds;
        long earliest = -1;
        var ask = new List<string>(checkedQueues.Count);
        foreach (var queue in checkedQueues)
        {
            var watch = _due.GetOrAdd(queue, _ => new DueWatch());
            lock (watch)
            {
                if (watch.Earliest > now && now - watch.CheckedAt < recheck)
                {
                    earliest = Earlier(earliest, watch.Earliest == long.MaxValue ? -1 : watch.Earliest);
                    continue;
                }

                watch.Heard = long.MaxValue;
            }

            ask.Add(queue);
        }

        foreach (var group in ask.Count == 0 ? [] : Groups(ask))
        {
            var args = Args(_time.GetUtcNow(), 1);
            args.Add(SweepLimit);
            var due = (long)await RunAsync(StoreScript.Promote, [.. group.Select(SeqKey)], args).ConfigureAwait(false);
            earliest = Earlier(earliest, due);
            foreach (var queue in group)
            {
                var watch = _due[queue];
                lock (watch)
                {
                    // The call answers for the whole group: a queue's own next due time is no
                    // earlier. What was announced while the call ran may not be in its answer,
                    // and it woke no watcher when no earlier than the due time the call was made
                    // for: the caller sleeps until it through this answer.
                    watch.Earliest = Math.Min(due < 0 ? long.MaxValue : due, watch.Heard);
                    watch.CheckedAt = now;
                    earliest = Earlier(earliest, watch.Earliest == long.MaxValue ? -1 : watch.Earliest);
                }
            }
        }

        return earliest < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(earliest);
    }

    private static long Earlier(long a, long b) => a < 0 ? b : b < 0 ? a : Math.Min(a, b);

    /// <summary>A task of <paramref name="queue"/> may be due at <paramref name="due"/> (unix ms).</summary>
    private void HeardDue(string queue, long due)
    {
        var watch = _due.GetOrAdd(queue, _ => new DueWatch());
        bool earlier;
        lock (watch)
        {
            earlier = due < watch.Earliest;
            watch.Earliest = Math.Min(watch.Earliest, due);
            watch.Heard = Math.Min(watch.Heard, due);
        }

        if (earlier)
        {
            Watchers.Call(_dueWatchers);
        }
    }

    /// <summary>An announcement on the wake channel, '&lt;queue&gt;@&lt;unix ms&gt;'; false for a wake-up (a queue name has no '@').</summary>
    private bool TryHearDue(string message)
    {
        var at = message.LastIndexOf('@');
        if (at < 0)
        {
            return false;
        }

        if (long.TryParse(message.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var due))
        {
            HeardDue(message[..at], due);
        }

        return true;
    }

    /// <summary>After a reconnect announcements may have been lost: every queue is looked at again.</summary>
    private void ForgetDueTimes()
    {
        foreach (var watch in _due.Values)
        {
            lock (watch)
            {
                watch.CheckedAt = 0;
            }
        }

        Watchers.Call(_dueWatchers);
    }

    /// <summary>What this store knows of a queue's due tasks (unix ms; long.MaxValue: none).</summary>
    private sealed class DueWatch
    {
        public long Earliest { get; set; } = long.MaxValue;

        // The earliest due time heard since the last call for the queue started.
        public long Heard { get; set; } = long.MaxValue;

        public long CheckedAt { get; set; }
    }
}

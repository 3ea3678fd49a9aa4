using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Recovery without looking at idle queues. A lease expires only when its holder stopped renewing
/// it, so every store that holds leases keeps an entry in the lease registry P:workers:leases (a
/// sorted set: member the worker and store, score the time its leases start to expire if it stops
/// now). The heartbeat sets it after renewing its leases; a fetch adds it when no heartbeat keeps
/// it (a process that fetches without heartbeats). A recovery call reads the registry's oldest
/// entry (one command, whatever the number of queues): when an entry is past its time (a holder
/// died or stalled), every queue is looked at, as before; else only the queues never looked at by
/// this store, those whose last look is older than <see cref="RedisTransportOptions.SafetyLookInterval"/>
/// (longer for a worker of many queues),
/// and those a failed follow-up left entries in. Every queue is looked at again after a reconnect,
/// and once more a lease time after it.
/// An entry past its time by six heartbeat intervals is dropped after a full look: by then every
/// recovering worker has looked at its queues after the last lease of that holder expired.
/// A holder that goes on beating but stopped naming a lease it was given (dropped by its worker:
/// a settle that failed, a run abandoned) adds an entry at the time that lease expires, so that
/// the lease is recovered as if its holder had stopped.
/// </summary>
public sealed partial class RedisTaskStore
{
    /// <summary>Per queue, when this store's recovery last looked at it.</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _recoveryLooks = new(StringComparer.Ordinal);

    /// <summary>Queues the next recovery looks at whatever the registry says (a follow-up failed there).</summary>
    private readonly ConcurrentDictionary<string, byte> _lookAgain = new(StringComparer.Ordinal);

    // The score this store last wrote in the lease registry (unix ms; long.MinValue: none).
    private long _holderWritten = long.MinValue;

    // When every queue is looked at again after a reconnect (UTC ticks; long.MaxValue: not due).
    private long _lookAllAt = long.MaxValue;

    /// <summary>The leases this store gave out and did not see settled: when each expires, and when it was given.</summary>
    private readonly ConcurrentDictionary<(string Id, long Fence), Issued> _issued = new();

    /// <inheritdoc/>
    public async ValueTask<int> RecoverAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        // The first recovery of a worker's queues also drains what 0.1 left in them: a worker
        // upgraded in place runs the old messages instead of leaving them behind.
        var back = 0;
        var fresh = Checked(queues).Where(q => _migrated.TryAdd(q, 0)).ToList();
        if (fresh.Count > 0)
        {
            try
            {
                await MigrateLegacyAsync(fresh, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                foreach (var queue in fresh)
                {
                    _migrated.TryRemove(queue, out _);
                }

                throw;
            }
        }

        var start = _time.GetUtcNow();
        SortedSetEntry[] oldest;
        var unread = false;
        try
        {
            oldest = await Transient.Run(_db.SortedSetRangeByScoreWithScoresAsync(
                HoldersKey, double.NegativeInfinity, start.ToUnixTimeMilliseconds(), Exclude.Stop, Order.Ascending, 0, 1)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TransportException)
        {
            // The registry cannot be read (a key of another type, its node failing over): every
            // queue is looked at, as without a registry, so that no expired lease waits on it.
            oldest = [];
            unread = true;
        }

        var stale = unread || oldest.Length > 0 || LookAllDue(start);
        var look = new List<string>();
        var distinct = queues.Distinct(StringComparer.Ordinal).ToList();
        var every = SafetyLookEvery(distinct.Count);
        foreach (var queue in distinct)
        {
            if (stale || _lookAgain.TryRemove(queue, out _) || !_recoveryLooks.TryGetValue(queue, out var at) || start - at >= every)
            {
                look.Add(queue);
            }
            else
            {
                // Nothing may have changed in its outbox either: the leftover sweep that follows skips it.
                _outboxLooked[queue] = start;
            }
        }

        var sending = new List<(string Queue, string Join)>();
        foreach (var group in look.Count == 0 ? [] : Groups(look))
        {
            var now = _time.GetUtcNow();
            var args = Args(now, 2);
            args.Add(SweepLimit);
            args.Add(SendingLimit);
            RedisResult[] all;
            try
            {
                all = (RedisResult[])(await RunAsync(StoreScript.Recover, [.. group.Select(SeqKey)], args).ConfigureAwait(false))!;
            }
            catch
            {
                foreach (var queue in group)
                {
                    _lookAgain.TryAdd(queue, 0);
                }

                throw;
            }

            back += (int)(long)all[0];

            // What the leftover sweep that follows may skip: the queues seen without outbox entries.
            var end = 1;
            while (end < all.Length && all[end].Resp2Type == ResultType.Integer)
            {
                end++;
            }

            var marks = all.Skip(1).Take(end - 1).Select(i => (long)i).ToList();
            var withOutbox = marks.Where(i => i > 0).Select(i => group[(int)i - 1]).ToHashSet(StringComparer.Ordinal);
            foreach (var queue in group)
            {
                _outboxLooked[queue] = withOutbox.Contains(queue) ? DateTimeOffset.MinValue : now;
                _recoveryLooks[queue] = now;
            }

            // A queue with more expired leases than one call takes: the next round goes on with it.
            foreach (var more in marks.Where(i => i < 0))
            {
                _lookAgain.TryAdd(group[(int)-more - 1], 0);
            }

            // Workflow joins their senders did not seal in time (after 'sending'): looked at below.
            for (var i = end + 1; i + 1 < all.Length; i += 2)
            {
                sending.Add((group[(int)(long)all[i] - 1], (string)all[i + 1]!));
            }
        }

        // A queue that named as many as one call takes is looked at again at the next round.
        foreach (var full in sending.GroupBy(s => s.Queue, StringComparer.Ordinal).Where(q => q.Count() >= SendingLimit))
        {
            _lookAgain.TryAdd(full.Key, 0);
        }

        // An entry that every recovering worker has had time to act on since its last lease
        // expired (a lease fetched after its last heartbeat expires at most one interval later).
        var prune = start - (HeartbeatInterval * 6);
        if (oldest.Length > 0 && oldest[0].Score < prune.ToUnixTimeMilliseconds())
        {
            await Transient.Run(_db.SortedSetRemoveRangeByScoreAsync(HoldersKey, double.NegativeInfinity, prune.ToUnixTimeMilliseconds(), Exclude.Stop)).ConfigureAwait(false);
        }

        // Last, after this call's recovery is done: a look that fails is made again later.
        await CheckSendsAsync(sending).ConfigureAwait(false);
        return back;
    }

    /// <summary>
    /// After a fetch that leased tasks until <paramref name="deadline"/> (unix ms): adds this
    /// store to the lease registry when no heartbeat keeps its entry (none written yet, or the
    /// last one older than two heartbeat intervals: a late beat is not taken for a missing one).
    /// An entry already there keeps its earlier time.
    /// </summary>
    private async Task HoldLeasesAsync(long deadline)
    {
        var written = Interlocked.Read(ref _holderWritten);
        if (written != long.MinValue && deadline - written <= 2 * (long)HeartbeatInterval.TotalMilliseconds)
        {
            return;
        }

        try
        {
            await Transient.Run(_db.SortedSetAddAsync(HoldersKey, HolderName, deadline, SortedSetWhen.NotExists)).ConfigureAwait(false);
            Interlocked.Exchange(ref _holderWritten, deadline);
        }
        catch (Exception ex) when (ex is RedisException or TransportException)
        {
            // The leases are taken already: failing the fetch would leave them to expire unseen.
            // The next fetch or heartbeat writes the entry; until then only a safety look finds
            // them if this process stops.
            Troubled();
        }
    }

    /// <summary>Leases this store gave out until <paramref name="deadline"/> (unix ms), at <paramref name="now"/>.</summary>
    private void Issue(IEnumerable<TaskLease> leases, long deadline, long now)
    {
        foreach (var lease in leases)
        {
            _issued[(lease.Id, lease.Fence)] = new Issued(deadline, now);
        }
    }

    /// <summary>A lease settled through this store (or found not to be its own any more).</summary>
    private void Settled(TaskLease lease) => _issued.TryRemove((lease.Id, lease.Fence), out _);

    /// <summary>
    /// After a heartbeat at <paramref name="now"/> renewed <paramref name="held"/> until
    /// <paramref name="deadline"/> (unix ms): its registry entry says when its leases start to
    /// expire. A lease given out more than a heartbeat interval ago (so its worker had it when it
    /// took the snapshot it names) and neither named nor settled was dropped: an entry of its own,
    /// at the time it expires, makes recovering workers look for it (and is pruned as a stopped
    /// holder's entry would be).
    /// </summary>
    private async Task HeldUntilAsync(IReadOnlyCollection<TaskLease> held, long now, long deadline)
    {
        var interval = (long)HeartbeatInterval.TotalMilliseconds;
        var named = new HashSet<(string, long)>(held.Select(l => (l.Id, l.Fence)));
        var dropped = long.MaxValue;
        var gone = new List<KeyValuePair<(string, long), Issued>>();
        foreach (var (key, issued) in _issued)
        {
            if (named.Contains(key))
            {
                _issued[key] = issued with { Deadline = deadline };
            }
            else if (now - issued.At > interval && _issued.TryRemove(key, out _))
            {
                dropped = Math.Min(dropped, issued.Deadline);
                gone.Add(new(key, issued));
            }
        }

        SortedSetEntry[] entries = dropped == long.MaxValue
            ? [new(HolderName, deadline)]
            : [new(HolderName, deadline), new($"{HolderName}/{dropped}", dropped)];
        try
        {
            await Transient.Run(_db.SortedSetAddAsync(HoldersKey, entries)).ConfigureAwait(false);
            Interlocked.Exchange(ref _holderWritten, deadline);
        }
        catch
        {
            // Not written: the dropped leases are named again at the next beat.
            foreach (var (key, issued) in gone)
            {
                _issued.TryAdd(key, issued);
            }

            throw;
        }
    }

    /// <summary>
    /// After a reconnect a holder's entry or a wake-up may have been missed: every queue is looked
    /// at again, at once and once more a lease time later. Redis may have come back from its
    /// append-only file without the last writes before it stopped: a settle lost so leaves a
    /// lease no live holder renews, whose holder's entry goes on being renewed; it expires within
    /// a lease time of the reconnect, and that second look takes it back.
    /// </summary>
    private void ForgetRecoveryLooks()
    {
        _recoveryLooks.Clear();
        Interlocked.Exchange(ref _lookAllAt, (_time.GetUtcNow() + LeaseDuration + _options.HeartbeatInterval).UtcTicks);
    }

    /// <summary>Takes the look at every queue due a lease time after a reconnect, when it is due.</summary>
    private bool LookAllDue(DateTimeOffset now)
    {
        var at = Interlocked.Read(ref _lookAllAt);
        return now.UtcTicks >= at && Interlocked.CompareExchange(ref _lookAllAt, long.MaxValue, at) == at;
    }

    private RedisKey HoldersKey => $"{_prefix}:workers:leases";

    /// <summary>A lease given out: when it expires unless renewed, and when it was given (unix ms).</summary>
    private readonly record struct Issued(long Deadline, long At);

    // This store in the lease registry: the worker, and the store (a process may hold several).
    private string HolderName => $"{Worker.WorkerIdentity.Name}/{_epoch}";
}

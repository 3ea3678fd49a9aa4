using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Hand-off to an idle worker (docs/architecture.md, "Hand-off"). A fetch that ends with room
/// left registers this store as idle on its queues (P:{q}:idle, field: this store's hand-off
/// name); an enqueue that finds such a queue with no pending entry starts its task for this
/// store's worker at once and publishes the start on this store's own channel,
/// P:store:hand:&lt;name&gt;. The leases heard there are handed to a waiting fetch at once, or kept
/// for the next one (renewed by the heartbeat meanwhile); a store that stops fetching (a fetch
/// canceled, <see cref="LeaveAsync"/>, dispose) removes its idle entries and releases the leases
/// it kept. A start that never arrives is a lease nobody renews: it comes back by recovery.
/// </summary>
public sealed partial class RedisTaskStore
{
    // How many bytes a start frame has before its variable parts: attempt, fence, priority, deadline.
    private const int HandHead = 2 + 4 + 1 + 6;

    /// <summary>Leases handed to this store that no fetch returned yet, oldest first (under <see cref="_fetchers"/>).</summary>
    private readonly List<HandedLease> _kept = [];

    /// <summary>The queues this store may have idle entries on.</summary>
    private readonly ConcurrentDictionary<string, byte> _idleOn = new(StringComparer.Ordinal);

    // 1 once no fetch is expected (a fetch canceled and none since, the worker left, the store
    // disposed): a start heard then is released at once instead of kept.
    private int _notFetching;

    private RedisKey IdleKey(string queue) => $"{_prefix}:{{{queue}}}:idle";

    /// <summary>Until when an idle entry of a look made at <paramref name="now"/> stands (unix ms).</summary>
    /// <remarks>
    /// An empty fetch waits <see cref="RedisTransportOptions.IdleFetchInterval"/>, and a worker
    /// fetches again at once; one heartbeat interval more covers a fetch that is late. A fetch
    /// that does not look (nothing announced since its last look) does not renew the entry: a
    /// worker idle longer gets its next task the usual way (a wake-up, then a fetch, which
    /// registers it again). Short, so that a worker killed while idle is handed at most its room
    /// of tasks, and only within that time (they come back by recovery, a lease time later).
    /// </remarks>
    private long IdleUntil(DateTimeOffset now) => (now + _options.IdleFetchInterval + _options.HeartbeatInterval).ToUnixTimeMilliseconds();

    /// <summary>The fetch script's arguments after the worker: hand-off name, lease (ms), until when an idle entry stands, whether this store may have entries on <paramref name="group"/>.</summary>
    private void AddIdleArgs(List<RedisValue> args, DateTimeOffset now, List<string> group)
    {
        args.Add(_epoch);
        args.Add((long)LeaseDuration.TotalMilliseconds);
        args.Add(IdleUntil(now));
        args.Add(group.Any(_idleOn.ContainsKey) ? "1" : string.Empty);
    }

    /// <summary>After a fetch script on <paramref name="group"/>: it registered this store as idle there (room left), or cleared its entries.</summary>
    private void Registered(List<string> group, bool idle)
    {
        foreach (var queue in group)
        {
            if (idle)
            {
                _idleOn.TryAdd(queue, 0);
            }
            else
            {
                _idleOn.TryRemove(queue, out _);
            }
        }
    }

    /// <summary>Starts heard on this store's hand-off channel: kept and handed to a waiting fetch of their queue, or released when no fetch is expected.</summary>
    private void OnHand(RedisValue message)
    {
        List<HandedLease> heard;
        try
        {
            heard = ReadStarts((byte[])message!);
        }
        catch (ArgumentOutOfRangeException)
        {
            // Not a start frame (published by hand): nothing to take; what it may have named
            // comes back by recovery.
            return;
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var kept in heard)
        {
            Issue([kept.Lease], kept.Deadline, now);
        }

        var release = false;
        lock (_fetchers)
        {
            if (Volatile.Read(ref _notFetching) == 1 && !_fetchers.Any(f => heard.Any(k => f.Queues.Contains(k.Lease.Queue))))
            {
                release = true;
            }
            else
            {
                _kept.AddRange(heard);
                foreach (var fetcher in _fetchers)
                {
                    if (heard.Any(k => fetcher.Queues.Contains(k.Lease.Queue)))
                    {
                        fetcher.Signal.Set();
                    }
                }
            }
        }

        if (release)
        {
            _ = ReleaseAsync(heard);
        }
    }

    /// <summary>The starts of a hand-off message: per task attempt, fence, priority, deadline, then queue, id and envelope, each after its length.</summary>
    private static List<HandedLease> ReadStarts(byte[] frame)
    {
        var starts = new List<HandedLease>(1);
        var span = frame.AsSpan();
        var at = 0;
        while (at < span.Length)
        {
            var head = span.Slice(at, HandHead);
            var attempt = BinaryPrimitives.ReadUInt16BigEndian(head);
            var fence = BinaryPrimitives.ReadUInt32BigEndian(head[2..]);
            var priority = head[6];
            var deadline = ((long)BinaryPrimitives.ReadUInt16BigEndian(head[7..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(head[9..]);
            at += HandHead;
            var queue = Encoding.UTF8.GetString(Part(span, ref at, 2));
            var id = Encoding.UTF8.GetString(Part(span, ref at, 2));
            var envelope = Part(span, ref at, 4).ToArray();
            starts.Add(new HandedLease(new TaskLease(id, queue, attempt, envelope, priority, fence), deadline));
        }

        return starts;
    }

    /// <summary>A part after its big-endian length of <paramref name="size"/> bytes.</summary>
    private static ReadOnlySpan<byte> Part(ReadOnlySpan<byte> span, ref int at, int size)
    {
        var length = size == 2 ? BinaryPrimitives.ReadUInt16BigEndian(span.Slice(at, 2)) : (int)BinaryPrimitives.ReadUInt32BigEndian(span.Slice(at, 4));
        var part = span.Slice(at + size, length);
        at += size + length;
        return part;
    }

    /// <summary>
    /// Up to <paramref name="max"/> kept leases of the fetcher's queues, oldest first. One whose
    /// lease is about to run out (kept past its renewals: no heartbeat) is released instead: it
    /// may be recovered and run elsewhere.
    /// </summary>
    private List<TaskLease> TakeHanded(Fetcher fetcher, int max)
    {
        var taken = new List<TaskLease>();
        List<HandedLease>? stale = null;
        var soon = (_time.GetUtcNow() + HeartbeatInterval).ToUnixTimeMilliseconds();
        lock (_fetchers)
        {
            for (var i = 0; i < _kept.Count && taken.Count < max;)
            {
                var kept = _kept[i];
                if (!fetcher.Queues.Contains(kept.Lease.Queue))
                {
                    i++;
                    continue;
                }

                _kept.RemoveAt(i);
                if (kept.Deadline > soon)
                {
                    taken.Add(kept.Lease);
                }
                else
                {
                    (stale ??= []).Add(kept);
                }
            }
        }

        if (stale is not null)
        {
            _ = ReleaseAsync(stale);
        }

        return taken;
    }

    /// <summary>The kept leases, for the heartbeat to renew.</summary>
    private List<TaskLease> KeptLeases()
    {
        lock (_fetchers)
        {
            return [.. _kept.Select(k => k.Lease)];
        }
    }

    /// <summary>The heartbeat renewed the kept leases until <paramref name="deadline"/>.</summary>
    private void KeptRenewed(List<TaskLease> renewed, long deadline)
    {
        var set = renewed.ToHashSet();
        lock (_fetchers)
        {
            for (var i = 0; i < _kept.Count; i++)
            {
                if (set.Contains(_kept[i].Lease))
                {
                    _kept[i] = _kept[i] with { Deadline = deadline };
                }
            }
        }
    }

    /// <summary>
    /// No fetch is expected for now (<paramref name="queues"/>: a fetch of these was canceled; null:
    /// the worker leaves or the store closes): this store's idle entries there go, and the leases
    /// it kept for them go back to their queues (newest first, so the oldest is at the head again).
    /// Best effort: an entry left expires, a lease not released comes back by recovery.
    /// </summary>
    private async Task StopFetchingAsync(IReadOnlyCollection<string>? queues)
    {
        List<HandedLease> kept;
        lock (_fetchers)
        {
            Volatile.Write(ref _notFetching, 1);
            kept = [.. _kept.Where(k => queues is null || queues.Contains(k.Lease.Queue))];
            _kept.RemoveAll(kept.Contains);
        }

        var idle = _idleOn.Keys.Where(q => queues is null || queues.Contains(q)).ToList();
        try
        {
            await Task.WhenAll(idle.Select(q => _db.HashDeleteAsync(IdleKey(q), _epoch))).ConfigureAwait(false);
            foreach (var queue in idle)
            {
                _idleOn.TryRemove(queue, out _);
            }
        }
        catch (Exception ex) when (Transient.IsTransient(ex) || ex is RedisException or ObjectDisposedException)
        {
            // Left to expire (IdleUntil).
        }

        await ReleaseAsync(kept).ConfigureAwait(false);
    }

    /// <summary>Releases leases this store kept and gave to no fetch, newest first; one try each.</summary>
    private async Task ReleaseAsync(List<HandedLease> kept)
    {
        for (var i = kept.Count - 1; i >= 0; i--)
        {
            try
            {
                await CompleteAsync(kept[i].Lease, TaskCompletion.Released()).ConfigureAwait(false);
            }
            catch (Exception ex) when (Transient.IsTransient(ex) || ex is TransportException or RedisException or ObjectDisposedException or System.IO.InvalidDataException)
            {
                // Its lease expires and recovery brings it back.
            }
        }
    }

    /// <summary>A lease handed to this store, and until when it holds (unix ms).</summary>
    private readonly record struct HandedLease(TaskLease Lease, long Deadline);
}

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
/// Hand-off to an idle worker (docs/architecture.md, "Hand-off"). A fetch that starts nothing
/// registers this store as idle on its queues (P:{q}:idle, field: this store's hand-off
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

    /// <summary>The queues this store ever registered idle on: starts may be on their way from there.</summary>
    private readonly ConcurrentDictionary<string, byte> _everIdle = new(StringComparer.Ordinal);

    // Removes a store's idle entries (KEYS: idle keys of one slot; ARGV: its hand-off name, its
    // channel, a mark), then publishes the mark on its channel from that node, after every start
    // a script there handed to it: once the store hears the mark, no start is on its way.
    private const string UnregisterScript = """
        for i = 1, #KEYS do pcall(redis.call, 'HDEL', KEYS[i], ARGV[1]) end
        redis.call('PUBLISH', ARGV[2], ARGV[3])
        """;

    /// <summary>The marks this store published on its hand-off channel and waits to hear.</summary>
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _marks = new(StringComparer.Ordinal);

    /// <summary>How many handed leases this store keeps for its next fetch (for tests).</summary>
    internal int HandedCount
    {
        get
        {
            lock (_fetchers)
            {
                return _kept.Count;
            }
        }
    }

    private RedisKey IdleKey(string queue) => $"{_prefix}:{{{queue}}}:idle";

    /// <summary>Until when an idle entry of a look made at <paramref name="now"/> stands (unix ms).</summary>
    /// <remarks>
    /// An empty fetch waits <see cref="RedisTransportOptions.IdleFetchInterval"/>, and a worker
    /// fetches again at once; one heartbeat interval more covers a fetch that is late. A fetch
    /// that does not look (nothing announced since its last look) does not renew the entry: a
    /// worker idle longer gets its next task the usual way (a wake-up, then a fetch, which
    /// registers it again). Short, so that a worker killed while idle is handed at most its room
    /// of tasks, and only within that time (they come back by recovery, a lease time later), where
    /// an enqueue cannot ask whether the worker still listens (a Cluster, or replicas).
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

    /// <summary>After a fetch script on <paramref name="group"/>: it registered this store as idle there (it started nothing), or cleared its entries.</summary>
    private void Registered(List<string> group, bool idle)
    {
        foreach (var queue in group)
        {
            if (idle)
            {
                _idleOn.TryAdd(queue, 0);
                _everIdle.TryAdd(queue, 0);
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
        var bytes = (byte[])message!;
        if (bytes.Length < HandHead)
        {
            // A mark (StopFetchingAsync), shorter than any start.
            if (_marks.TryRemove(Encoding.UTF8.GetString(bytes), out var heardMark))
            {
                heardMark.TrySetResult();
            }

            return;
        }

        List<HandedLease> heard;
        try
        {
            heard = ReadStarts(bytes);
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

        // Kept even when no fetch is expected: released with the others, in order, when the
        // store stops fetching (or leaves, or closes), or taken by the next fetch.
        lock (_fetchers)
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

    /// <summary>
    /// A task canceled (cancel channel): a lease of it this store keeps is dropped and settled
    /// Canceled. The worker's cancellation watch knows only the leases its fetches returned, and
    /// runs whatever a fetch returns.
    /// </summary>
    private void OnCanceledHeard(RedisValue message)
    {
        var id = (string?)message;
        List<HandedLease>? canceled = null;
        lock (_fetchers)
        {
            for (var i = _kept.Count - 1; i >= 0; i--)
            {
                if (_kept[i].Lease.Id == id)
                {
                    (canceled ??= []).Add(_kept[i]);
                    _kept.RemoveAt(i);
                }
            }
        }

        if (canceled is not null)
        {
            _ = SettleKeptAsync(canceled, TaskCompletion.Canceled());
        }
    }

    /// <summary>
    /// The starts of a hand-off message: per task attempt, fence, priority, deadline, then queue,
    /// id and envelope, each after its length (<see cref="ReadStart"/>).
    /// </summary>
    private static List<HandedLease> ReadStarts(byte[] frame)
    {
        var starts = new List<HandedLease>(1);
        var at = 0;
        while (at < frame.Length)
        {
            starts.Add(ReadStart(frame, ref at));
        }

        return starts;
    }

    /// <summary>
    /// The start at <paramref name="at"/> of a hand-off message or of a fetch's answer (one frame
    /// per task). A queue named in <paramref name="queues"/> is that string (not a new one per
    /// task). The envelope of a start alone in <paramref name="frame"/> (a new array per message or
    /// answer) is a slice of it; one of several is copied, so that a lease holds no other task's
    /// envelope.
    /// </summary>
    private static HandedLease ReadStart(byte[] frame, ref int at, IReadOnlyList<string>? queues = null)
    {
        var first = at == 0;
        var head = frame.AsSpan(at, HandHead);
        var attempt = BinaryPrimitives.ReadUInt16BigEndian(head);
        var fence = BinaryPrimitives.ReadUInt32BigEndian(head[2..]);
        var priority = head[6];
        var deadline = ((long)BinaryPrimitives.ReadUInt16BigEndian(head[7..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(head[9..]);
        at += HandHead;
        var queue = QueueNamed(Part(frame, ref at, 2).Span, queues);
        var id = Encoding.UTF8.GetString(Part(frame, ref at, 2).Span);
        var envelope = Part(frame, ref at, 4);
        if (!first || at < frame.Length)
        {
            envelope = envelope.ToArray();
        }

        return new HandedLease(new TaskLease(id, queue, attempt, envelope, priority, fence), deadline);
    }

    /// <summary>The queue of <paramref name="queues"/> whose UTF-8 name is <paramref name="utf8"/>, or a new string.</summary>
    private static string QueueNamed(ReadOnlySpan<byte> utf8, IReadOnlyList<string>? queues)
    {
        if (queues is not null)
        {
            foreach (var queue in queues)
            {
                if (queue.Length == utf8.Length && Ascii.Equals(utf8, queue))
                {
                    return queue;
                }
            }
        }

        return Encoding.UTF8.GetString(utf8);
    }

    /// <summary>A part after its big-endian length of <paramref name="size"/> bytes.</summary>
    private static ReadOnlyMemory<byte> Part(byte[] frame, ref int at, int size)
    {
        var length = size == 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(at, 2)) : (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(at, 4));
        var part = new ReadOnlyMemory<byte>(frame, at + size, length);
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

    /// <summary>
    /// Before a lease of <paramref name="queue"/> is released (its worker gives it back: it stops):
    /// the leases kept for that queue go back first, newest first. They are newer than any the
    /// worker took, which it gives back newest first after this, so the oldest ends at the head.
    /// A worker may stop with no fetch under way (its fetcher waiting for room), its idle entry
    /// still standing: then the hand-off to it ends here, and the starts still on their way are
    /// waited for and go back first too (StopFetchingAsync), not later, ahead of these.
    /// </summary>
    private async Task ReleaseKeptAsync(string queue)
    {
        bool fetching;
        lock (_fetchers)
        {
            fetching = _fetchers.Exists(f => f.Queues.Contains(queue));
        }

        if (!fetching && _idleOn.ContainsKey(queue))
        {
            await StopFetchingAsync([queue]).ConfigureAwait(false);
            return;
        }

        List<HandedLease> kept;
        lock (_fetchers)
        {
            if (_kept.Count == 0)
            {
                return;
            }

            kept = [.. _kept.Where(k => k.Lease.Queue == queue)];
            _kept.RemoveAll(kept.Contains);
        }

        await ReleaseAsync(kept).ConfigureAwait(false);
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
    /// the worker leaves or the store closes): this store's idle entries there go, the starts
    /// still on their way are waited for (a mark published after them, at most a heartbeat
    /// interval), and the leases it kept for those queues go back to them, newest first, so that
    /// the oldest is at the head again (a worker releases what it prefetched after this, so its
    /// older tasks go before these). Best effort: an entry left expires, a lease not released
    /// comes back by recovery.
    /// </summary>
    private async Task StopFetchingAsync(IReadOnlyCollection<string>? queues)
    {
        // Every queue it was idle on, not only those it is still registered on: a start handed
        // before an entry went (removed by a fetch that started a task) may still be on its way.
        var idle = _everIdle.Keys.Where(q => queues is null || queues.Contains(q)).ToList();
        var marks = new List<Task>();
        var published = new List<string>();
        try
        {
            foreach (var group in idle.Count == 0 ? [] : Groups(idle))
            {
                var mark = Guid.NewGuid().ToString("N")[..8];
                var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _marks[mark] = heard;
                published.Add(mark);
                marks.Add(heard.Task);
                await _db.ScriptEvaluateAsync(UnregisterScript, [.. group.Select(IdleKey)], [_epoch, _handChannel.ToString(), mark]).ConfigureAwait(false);
                foreach (var queue in group)
                {
                    _idleOn.TryRemove(queue, out _);
                }
            }

            await Task.WhenAll(marks).WaitAsync(HeartbeatInterval).ConfigureAwait(false);
        }
        catch (Exception ex) when (Transient.IsTransient(ex) || ex is RedisException or ObjectDisposedException or TimeoutException or ArgumentException)
        {
            // (A closed connection answers the look at its servers with an ArgumentException.)
            // Entries left expire (IdleUntil); a start not heard comes back by recovery.
        }
        finally
        {
            foreach (var mark in published)
            {
                _marks.TryRemove(mark, out _);
            }
        }

        List<HandedLease> kept;
        lock (_fetchers)
        {
            kept = [.. _kept.Where(k => queues is null || queues.Contains(k.Lease.Queue))];
            _kept.RemoveAll(kept.Contains);
        }

        await ReleaseAsync(kept).ConfigureAwait(false);
    }

    /// <summary>Releases leases this store kept and gave to no fetch, newest first; one try each.</summary>
    private Task ReleaseAsync(List<HandedLease> kept) => SettleKeptAsync(kept, TaskCompletion.Released());

    /// <summary>Settles leases this store kept and gave to no fetch, newest first; one try each.</summary>
    private async Task SettleKeptAsync(List<HandedLease> kept, TaskCompletion completion)
    {
        for (var i = kept.Count - 1; i >= 0; i--)
        {
            try
            {
                await CompleteAsync(kept[i].Lease, completion).ConfigureAwait(false);
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

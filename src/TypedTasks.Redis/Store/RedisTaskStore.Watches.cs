using System;
using System.Collections.Generic;
using System.Threading;
using StackExchange.Redis;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Tasks this store enqueued while its done subscription was up: a wait on one needs no first
/// read, since its done frame cannot have been missed. Each new task (no chosen id, no unique key:
/// only those are sure to be new) is watched from its enqueue's answer; a frame for a watched
/// task is kept for a while, so that a wait that comes after the task ended finds the outcome in
/// memory. Any doubt reads as before: an id not watched (another process's task, one enqueued
/// before the subscription was confirmed, one whose frame came before its enqueue was answered),
/// every watch once a connection fails (the map is emptied; watching starts again when a probe
/// published on the done channel comes back), a frame dropped by the bounds. A watched wait still
/// has the sweep behind it, in case a frame is lost without the connection failing.
/// </summary>
public sealed partial class RedisTaskStore
{
    // The recent frames' ids (hashes), to tell whether a task of an enqueue ended before its
    // answer was read. An enqueue that heard more frames than this meanwhile watches nothing.
    private const int RecentFrames = 16_384;
    private const int ProbeLength = 5;
    private const byte ProbeMark = 0xff;

    private readonly Dictionary<string, Kept?> _watched = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Kept?>.AlternateLookup<ReadOnlySpan<char>> _watchedBySpan;
    private readonly Queue<string> _watchOrder = new();
    private readonly Queue<(string Id, Kept Kept)> _keptOrder = new();
    private readonly int[] _recent = new int[RecentFrames];
    private long _frames;
    private long _keptBytes;
    private long _subscriptionEpoch;
    private bool _doneConfirmed;
    private bool _doneSubscribed;
    private int _probe;
    private long _probeSentAt = long.MinValue;

    /// <summary>At most this many tasks are watched; the oldest watch goes first. Internal for tests.</summary>
    internal int WatchLimit { get; set; } = 65_536;

    /// <summary>A watched task's frame is kept this long (at most the result TTL); internal for tests.</summary>
    internal TimeSpan KeepFor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The frames kept hold at most this many record bytes in all; a larger frame is not kept. Internal for tests.</summary>
    internal long KeptBytesLimit { get; set; } = 8 << 20;

    /// <summary>How many tasks are watched now (tests).</summary>
    internal int WatchedCount
    {
        get
        {
            lock (_gate)
            {
                return _watched.Count;
            }
        }
    }

    /// <summary>How many watched tasks have their frame kept now (tests).</summary>
    internal int KeptCount
    {
        get
        {
            lock (_gate)
            {
                var count = 0;
                foreach (var kept in _watched.Values)
                {
                    count += kept is null ? 0 : 1;
                }

                return count;
            }
        }
    }

    /// <summary>Whether the store watches <paramref name="id"/> (tests).</summary>
    internal bool IsWatched(string id)
    {
        lock (_gate)
        {
            return _watched.ContainsKey(id);
        }
    }

    /// <summary>How many frames the store has heard (tests).</summary>
    internal long HeardFrames
    {
        get
        {
            lock (_gate)
            {
                return _frames;
            }
        }
    }

    /// <summary>
    /// Called (tests) with a watched task's id once its frame is heard and before it is kept: the
    /// window in which a wait that begins finds neither a kept frame nor is found by the frame.
    /// </summary>
    internal Action<string>? BeforeKeep { get; set; }

    /// <summary>True once the done subscription is known to be up (tests).</summary>
    internal bool WatchingEnqueues
    {
        get
        {
            lock (_gate)
            {
                return _doneConfirmed;
            }
        }
    }

    /// <summary>
    /// Subscribes to the done channel on first use. The first subscription is confirmed by its
    /// answer; after a connection failed, a probe confirms it again (at most one a second).
    /// </summary>
    private async System.Threading.Tasks.ValueTask EnsureDoneAsync()
    {
        if (!Volatile.Read(ref _doneSubscribed))
        {
            long epoch;
            lock (_gate)
            {
                epoch = _subscriptionEpoch;
            }

            await _done.EnsureAsync().ConfigureAwait(false);
            lock (_gate)
            {
                if (!_doneSubscribed)
                {
                    _doneSubscribed = true;
                    _doneConfirmed = epoch == _subscriptionEpoch;
                }
            }
        }

        if (!Volatile.Read(ref _doneConfirmed))
        {
            Probe(force: false);
        }
    }

    /// <summary>Publishes a probe on the done channel; its return proves the subscription up.</summary>
    private void Probe(bool force)
    {
        int nonce;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (!_doneSubscribed || _doneConfirmed || (!force && _probeSentAt != long.MinValue && _time.GetElapsedTime(_probeSentAt, now) < TimeSpan.FromSeconds(1)))
            {
                return;
            }

            _probeSentAt = now;
            nonce = _probe = Random.Shared.Next();
        }

        var message = new byte[ProbeLength];
        message[0] = ProbeMark;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), nonce);
        try
        {
            _ = _connection.GetSubscriber().PublishAsync(_doneChannel, message, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (Transient.IsTransient(ex) || ex is ObjectDisposedException)
        {
            // Not sent: the next wait or reconnect probes again.
        }
    }

    /// <summary>A probe came back: if it is the last one sent and no connection failed since, the subscription is up.</summary>
    private void OnProbe(ReadOnlySpan<byte> message)
    {
        var nonce = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(message[1..]);
        lock (_gate)
        {
            if (_doneSubscribed && nonce == _probe && _probeSentAt != long.MinValue)
            {
                _doneConfirmed = true;
            }
        }
    }

    /// <summary>A connection failed: frames may be lost from now on, so nothing watched stands.</summary>
    private void ForgetWatches()
    {
        lock (_gate)
        {
            _subscriptionEpoch++;
            _doneConfirmed = false;
            _probeSentAt = long.MinValue;
            _probe = 0;
            _watched.Clear();
            _watchOrder.Clear();
            _keptOrder.Clear();
            _keptBytes = 0;
        }
    }

    /// <summary>What an enqueue call needs to know, when it is sent, to watch its tasks: null when it cannot.</summary>
    private WatchMark? MarkForWatch()
    {
        lock (_gate)
        {
            return _doneConfirmed ? new WatchMark(_subscriptionEpoch, _frames) : null;
        }
    }

    /// <summary>
    /// Watches the new tasks of answered enqueues, unless a connection failed since the call was
    /// sent, or a frame heard since then may be one of theirs (it came before the answer).
    /// </summary>
    private void Watch(WatchMark mark, IReadOnlyList<EnqueueRequest> requests, EnqueueAnswer[] answers)
    {
        lock (_gate)
        {
            var heard = _frames - mark.Frames;
            if (mark.Epoch != _subscriptionEpoch || heard > RecentFrames)
            {
                return;
            }

            HashSet<int>? ended = null;
            if (heard > 0)
            {
                ended = new HashSet<int>((int)heard);
                for (var f = mark.Frames; f < _frames; f++)
                {
                    ended.Add(_recent[f & (RecentFrames - 1)]);
                }
            }

            for (var r = 0; r < requests.Count; r++)
            {
                if (answers[r].Stored is not { } ids)
                {
                    continue;
                }

                var tasks = requests[r].Tasks;
                for (var t = 0; t < ids.Length; t++)
                {
                    // A chosen id or a unique key may answer with a task that was there before.
                    if (tasks[t].ChosenId is null && tasks[t].UniqueKey is null && !(ended?.Contains(ids[t].GetHashCode()) ?? false) && _watched.TryAdd(ids[t], null))
                    {
                        _watchOrder.Enqueue(ids[t]);
                    }
                }
            }

            while (_watchOrder.Count > WatchLimit)
            {
                Unwatch(_watchOrder.Dequeue());
            }

            CompactKeptLocked();
        }
    }

    /// <summary>A frame heard (its id's hash), and whether its task is watched (then the id as watched).</summary>
    private string? HeardLocked(ReadOnlySpan<char> id)
    {
        _recent[_frames++ & (RecentFrames - 1)] = string.GetHashCode(id);
        return _watched.Count > 0 && _watchedBySpan.TryGetValue(id, out var watched, out _) ? watched : null;
    }

    /// <summary>
    /// Keeps the final record of a watched task, within the bounds; past them the task is no longer
    /// watched (a wait reads). Returns the task's waiter if one registered since the frame was
    /// heard: it saw no kept frame, and the frame saw no waiter.
    /// </summary>
    private Waiter? Keep(string id, StoreRecord record, int bytes)
    {
        lock (_gate)
        {
            _waiters.TryGetValue(id, out var waiter);
            if (!_watched.TryGetValue(id, out var old))
            {
                return waiter;
            }

            if (old is not null)
            {
                _keptBytes -= old.Bytes;
                old.Drop();
            }

            if (bytes > KeptBytesLimit)
            {
                _watched.Remove(id);
                return waiter;
            }

            var kept = new Kept(record, _time.GetTimestamp(), bytes);
            _watched[id] = kept;
            _keptOrder.Enqueue((id, kept));
            _keptBytes += bytes;
            ExpireKeptLocked();
            StartSweepLocked();
            return waiter;
        }
    }

    /// <summary>
    /// Drops the kept frames past their time, then the oldest while over the byte bound (their
    /// tasks are no longer watched); then the dropped entries behind a live one, once they are most.
    /// </summary>
    private void ExpireKeptLocked()
    {
        var keepFor = TimeSpan.FromMilliseconds(Math.Min(KeepFor.TotalMilliseconds, _ttlMs));
        var now = _time.GetTimestamp();
        while (_keptOrder.TryPeek(out var oldest) && (oldest.Kept.Dropped || _keptBytes > KeptBytesLimit || _time.GetElapsedTime(oldest.Kept.At, now) >= keepFor))
        {
            _keptOrder.Dequeue();
            if (!oldest.Kept.Dropped)
            {
                Unwatch(oldest.Id);
            }
        }

        CompactKeptLocked();
    }

    /// <summary>
    /// Takes the dropped entries out of the kept order once they outnumber the watched tasks (the
    /// live entries are at most those) by far: entries dropped behind a live one (a task deleted
    /// or requeued through this store, a watch pushed out by newer ones) would otherwise stay
    /// until that one expires, as many as the frames of <see cref="KeepFor"/>.
    /// </summary>
    private void CompactKeptLocked()
    {
        if (_keptOrder.Count <= (2 * _watched.Count) + 64)
        {
            return;
        }

        var live = _keptOrder.ToArray();
        _keptOrder.Clear();
        foreach (var entry in live)
        {
            if (!entry.Kept.Dropped)
            {
                _keptOrder.Enqueue(entry);
            }
        }
    }

    /// <summary>Stops watching a task; its kept frame, if any, goes too.</summary>
    private void Unwatch(string id)
    {
        if (_watched.Remove(id, out var kept) && kept is not null)
        {
            _keptBytes -= kept.Bytes;
            kept.Drop();
        }
    }

    /// <summary>Stops watching tasks a call of this store deletes or sends back to run: a wait on them reads.</summary>
    private void Unwatch(IReadOnlyList<string> ids)
    {
        lock (_gate)
        {
            if (_watched.Count == 0)
            {
                return;
            }

            foreach (var id in ids)
            {
                if (id is not null)
                {
                    Unwatch(id);
                }
            }

            CompactKeptLocked();
        }
    }

    /// <summary>Stops watching every task of a queue (a purge deletes some of its tasks by position, not by id).</summary>
    private void UnwatchQueue(string queue)
    {
        lock (_gate)
        {
            if (_watched.Count == 0)
            {
                return;
            }

            var suffix = "@" + queue;
            List<string>? gone = null;
            foreach (var id in _watched.Keys)
            {
                if (id.EndsWith(suffix, StringComparison.Ordinal))
                {
                    (gone ??= []).Add(id);
                }
            }

            foreach (var id in gone ?? [])
            {
                Unwatch(id);
            }

            CompactKeptLocked();
        }
    }

    /// <summary>When an enqueue call was sent: the subscription epoch and the frames heard so far.</summary>
    private readonly record struct WatchMark(long Epoch, long Frames);

    /// <summary>
    /// A watched task's final record, kept from its frame (its bytes counted against the bound
    /// until dropped; dropped, it lets the record go, though its entry may wait in the kept order).
    /// </summary>
    private sealed class Kept(StoreRecord record, long at, int bytes)
    {
        public StoreRecord? Record { get; private set; } = record;

        public long At { get; } = at;

        public int Bytes { get; } = bytes;

        public bool Dropped { get; private set; }

        public void Drop()
        {
            Dropped = true;
            Record = null;
        }
    }
}

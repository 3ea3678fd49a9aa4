using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Serialization;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// Task states in Redis: one string key per task holding the encoded record, with the result TTL.
/// Writes, starts and reads go through group commits (<see cref="Batcher{TRequest, TResponse}"/>):
/// the calls that arrive while one is on the wire go together in the next script call or MGET.
/// Final states are written and announced on the done channel in one script, one message per
/// batch; each client holds one subscription to that channel and wakes its own waiters. A waiter
/// also reads the state again every <see cref="RedisTransportOptions.ResultPollInterval"/>, in
/// case a notification was lost.
/// </summary>
public sealed class RedisResultBackend : IResultBackend
{
    // Entries per script call or MGET: large enough to amortise a call, small enough that one
    // call never blocks the server for long.
    private const int BatchLimit = 256;
    private const long MaxSweepGap = 16;
    private readonly IConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly RedisKeys _keys;
    private readonly RedisTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly long _ttlMs;
    private readonly object _gate = new();
    private readonly Dictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Waiter>.AlternateLookup<ReadOnlySpan<char>> _waitersBySpan;
    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly LazySubscription _done;
    private ITimer? _sweep;
    private long _sweeps;
    private readonly Batcher<StateWrite, bool> _stores;
    private readonly Batcher<StateWrite, bool> _enqueued;
    private readonly Batcher<StartRequest, byte[]?> _starts;
    private readonly Batcher<RedisKey, byte[]?> _reads;

    internal RedisResultBackend(IConnectionMultiplexer connection, RedisKeys keys, RedisTransportOptions options, TimeSpan resultTtl, TimeProvider time)
    {
        _connection = connection;
        _db = connection.GetDatabase();
        _keys = keys;
        _options = options;
        _time = time;
        _ttlMs = (long)resultTtl.TotalMilliseconds;
        _waitersBySpan = _waiters.GetAlternateLookup<ReadOnlySpan<char>>();
        _done = new LazySubscription(connection, keys.Done, (_, message) => Notify(message));
        // A worker stores an outcome, then acks: short callers. A producer's first state is
        // followed by the caller's own code: a batcher of its own.
        _stores = new Batcher<StateWrite, bool>(StoreAsync, shortCallers: true);
        _enqueued = new Batcher<StateWrite, bool>(StoreAsync);
        _starts = new Batcher<StartRequest, byte[]?>(StartAsync);
        _reads = new Batcher<RedisKey, byte[]?>(ReadAsync);
        connection.ConnectionRestored += OnConnectionRestored;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Written for the worker, which stores an outcome and then acks: the callers whose states
    /// went in one call continue in turn on one thread, so a caller should not block after it.
    /// </remarks>
    public ValueTask SetAsync(TaskInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        return Store(info, info.State.IsFinal() ? StoreMode.Final : StoreMode.Progress);
    }

    /// <inheritdoc/>
    public ValueTask SetEnqueuedAsync(TaskInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        return Store(info, StoreMode.Enqueued);
    }

    private ValueTask Store(TaskInfo info, StoreMode mode)
    {
        var record = TaskInfoCodec.Write(info);
        var frame = mode == StoreMode.Final ? DoneFrame(info.Id, record) : [];
        var write = new StateWrite(_keys.Result(info.Id), record, mode, frame);
        return new(mode == StoreMode.Enqueued ? _enqueued.Add(write) : _stores.Add(write));
    }

    /// <summary>A final state as the done channel carries it: the id's length (2 bytes, big-endian), the id, the record's length (4 bytes, big-endian), the record.</summary>
    private static byte[] DoneFrame(string id, byte[] record)
    {
        var idLength = Utf8.GetByteCount(id);
        var frame = new byte[6 + idLength + record.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, checked((ushort)idLength));
        Utf8.GetBytes(id, frame.AsSpan(2));
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(2 + idLength), record.Length);
        record.CopyTo(frame.AsSpan(6 + idLength));
        return frame;
    }

    /// <inheritdoc/>
    public async ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        var current = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (current?.State.IsFinal() == true)
        {
            return false;
        }

        var canceled = new TaskInfo(id, current?.TaskName ?? string.Empty, TaskState.Canceled, current?.Attempt ?? 0, _time.GetUtcNow(), null, default);
        var done = await Transient.Run(RedisScript.Cancel.RunAsync(
            _db, [_keys.Result(id)], [TaskInfoCodec.Write(canceled), _ttlMs, _keys.Done.ToString(), _keys.Cancel.ToString(), id])).ConfigureAwait(false);
        return (long)done == 1;
    }

    /// <inheritdoc/>
    public async ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onCanceled);
        var subscriber = _connection.GetSubscriber();
        Action<RedisChannel, RedisValue> handler = (_, message) => onCanceled(message.ToString());
        await Transient.Run(subscriber.SubscribeAsync(_keys.Cancel, handler)).ConfigureAwait(false);
        return new Unsubscribe(subscriber, _keys.Cancel, handler);
    }

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<TaskInfo?> TryStartAsync(TaskInfo started, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(started);
        var final = await _starts.Add(new StartRequest(_keys.Result(started.Id), TaskInfoCodec.Write(started))).ConfigureAwait(false);
        if (ReferenceEquals(final, WrongType))
        {
            throw new InvalidDataException($"The stored state of task {started.Id} is not a TypedTasks result record: its key holds another Redis type (WRONGTYPE).");
        }

        return final is null ? null : TaskInfoCodec.Read(started.Id, final);
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var stored = await _reads.Add(_keys.Result(id)).ConfigureAwait(false);
        return stored is null ? null : TaskInfoCodec.Read(id, stored);
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await _done.EnsureAsync().ConfigureAwait(false);

        // Registered before reading, so a notification between the read and the wait is not lost.
        var waiter = Register(id);
        try
        {
            if (await _reads.Add(_keys.Result(id)).ConfigureAwait(false) is { } stored && !TaskInfoCodec.IsUnfinished(stored)
                && TaskInfoCodec.Read(id, stored) is { } info && info.State.IsFinal())
            {
                waiter.TrySetResult(info);
            }

            if (timeout == Timeout.InfiniteTimeSpan)
            {
                return await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await waiter.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Task {id} did not reach a final state within {timeout}.");
            }
        }
        finally
        {
            Unregister(id, waiter);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _ = SweepAsync(all: true);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _connection.ConnectionRestored -= OnConnectionRestored;
        lock (_gate)
        {
            _sweep?.Dispose();
            _sweep = null;
        }

        await _done.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// A done message: one frame per final state, each the id's length (2 bytes, big-endian), the
    /// id, the record's length (4 bytes, big-endian), the record. Every client of the prefix gets
    /// every message; an id nobody here waits for costs a lookup and no allocation.
    /// </summary>
    private void Notify(RedisValue message)
    {
        List<(Waiter, TaskInfo)>? woken = null;
        try
        {
            ReadOnlyMemory<byte> rest = message;
            Span<char> chars = stackalloc char[128];
            while (rest.Length >= 6)
            {
                var span = rest.Span;
                int idLength = BinaryPrimitives.ReadUInt16BigEndian(span);
                if (rest.Length < 2 + idLength + 4)
                {
                    break; // not a frame; the sweep covers whatever it was
                }

                var recordLength = BinaryPrimitives.ReadInt32BigEndian(span[(2 + idLength)..]);
                if (recordLength < 0 || rest.Length - 6 - idLength < recordLength)
                {
                    break;
                }

                var idBytes = span.Slice(2, idLength);
                var record = rest.Slice(6 + idLength, recordLength);
                rest = rest[(6 + idLength + recordLength)..];
                Waiter? waiter;
                string? id = null;
                if (idLength <= chars.Length && Utf8.GetCharCount(idBytes) <= chars.Length)
                {
                    var idChars = chars[..Utf8.GetChars(idBytes, chars)];
                    lock (_gate)
                    {
                        _waitersBySpan.TryGetValue(idChars, out id, out waiter);
                    }
                }
                else
                {
                    id = Utf8.GetString(idBytes);
                    lock (_gate)
                    {
                        _waiters.TryGetValue(id, out waiter);
                    }
                }

                if (waiter is not null)
                {
                    (woken ??= []).Add((waiter, TaskInfoCodec.Read(id!, record.ToArray())));
                }
            }
        }
        catch (Exception ex) when (ex is System.Text.DecoderFallbackException or InvalidDataException)
        {
            // An id that is not UTF-8, a record that does not decode: not ours.
        }

        if (woken is not null)
        {
            Wake(woken);
        }
    }

    /// <summary>
    /// Completes waiters. The last continues on this thread (a thread-pool item of its own: one
    /// notification, one sweep), the others on the thread pool, so that a caller that runs long
    /// after its result never holds up the others.
    /// </summary>
    private static void Wake(List<(Waiter Waiter, TaskInfo Final)> woken)
    {
        for (var i = 0; i < woken.Count - 1; i++)
        {
            woken[i].Waiter.Final = woken[i].Final;
            ThreadPool.UnsafeQueueUserWorkItem(woken[i].Waiter, preferLocal: true);
        }

        var (last, final) = woken[^1];
        last.TrySetResult(final);
    }

    /// <summary>Writes a batch of states: one store_states call per hash slot and 256 entries, all pipelined.</summary>
    private Task StoreAsync(IReadOnlyList<StateWrite> writes, bool[] written)
        => SlotGroups.RunAsync(_connection, writes.Count, i => writes[i].Key, BatchLimit, group =>
        {
            var keys = new RedisKey[group.Count];
            var values = new RedisValue[2 + (3 * group.Count)];
            values[0] = _ttlMs;
            values[1] = _keys.Done.ToString();
            for (var i = 0; i < group.Count; i++)
            {
                var write = writes[group[i]];
                keys[i] = write.Key;
                values[2 + (3 * i)] = write.Record;
                values[3 + (3 * i)] = ModeArguments[(int)write.Mode];
                values[4 + (3 * i)] = write.Frame;
            }

            return RedisScript.StoreStates.RunAsync(_db, keys, values);
        });

    /// <summary>Marks a batch Started: one start_tasks call per hash slot and 256 tasks, all pipelined.</summary>
    private Task StartAsync(IReadOnlyList<StartRequest> starts, byte[]?[] finals)
        => SlotGroups.RunAsync(
            _connection,
            starts.Count,
            i => starts[i].Key,
            BatchLimit,
            group =>
            {
                var keys = new RedisKey[group.Count];
                var values = new RedisValue[1 + group.Count];
                values[0] = _ttlMs;
                for (var i = 0; i < group.Count; i++)
                {
                    keys[i] = starts[group[i]].Key;
                    values[1 + i] = starts[group[i]].Record;
                }

                return RedisScript.StartTasks.RunAsync(_db, keys, values);
            },
            (group, result) =>
            {
                var stored = (RedisResult[])result!;
                for (var i = 0; i < group.Count; i++)
                {
                    finals[group[i]] = stored[i].IsNull ? null
                        : stored[i].Resp2Type == ResultType.Integer ? WrongType
                        : (byte[])stored[i]!;
                }
            });

    /// <summary>Reads a batch of states: one MGET per hash slot and 256 keys, all pipelined.</summary>
    private Task ReadAsync(IReadOnlyList<RedisKey> keys, byte[]?[] records)
        => SlotGroups.RunAsync(
            _connection,
            keys.Count,
            i => keys[i],
            BatchLimit,
            group =>
            {
                var batch = new RedisKey[group.Count];
                for (var i = 0; i < group.Count; i++)
                {
                    batch[i] = keys[group[i]];
                }

                return _db.StringGetAsync(batch);
            },
            (group, values) =>
            {
                for (var i = 0; i < group.Count; i++)
                {
                    records[group[i]] = values[i].IsNull ? null : (byte[])values[i]!;
                }
            });

    private Waiter Register(string id)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(id, out var waiter))
            {
                waiter = new Waiter { NextSweep = _sweeps + 2 };
                _waiters.Add(id, waiter);
            }

            waiter.Count++;
            _sweep ??= _time.CreateTimer(_ => _ = SweepAsync(), null, _options.ResultPollInterval, _options.ResultPollInterval);
            return waiter;
        }
    }

    private void Unregister(string id, Waiter waiter)
    {
        lock (_gate)
        {
            if (--waiter.Count == 0)
            {
                _waiters.Remove(id);
            }
        }
    }

    /// <summary>
    /// The fallback for lost notifications (a reconnect drops the messages sent meanwhile): one
    /// timer ticks every <see cref="RedisTransportOptions.ResultPollInterval"/> and reads again,
    /// in batches, the states of the callers that are due, and wakes those that ended. A caller
    /// is first due after a whole interval, then after 2, 4, 8 and at most every 16 intervals,
    /// so that many long waits cost little; all are due at once when the subscription comes back
    /// after a reconnect. The timer stops while nobody waits.
    /// </summary>
    private async Task SweepAsync(bool all = false)
    {
        List<(string Id, Waiter Waiter)> due = [];
        long sweep;
        lock (_gate)
        {
            sweep = ++_sweeps;
            if (_waiters.Count == 0)
            {
                _sweep?.Dispose();
                _sweep = null;
                return;
            }

            foreach (var (id, waiter) in _waiters)
            {
                if (all || waiter.NextSweep <= sweep)
                {
                    waiter.Gap = Math.Min(waiter.Gap * 2, MaxSweepGap);
                    waiter.NextSweep = sweep + waiter.Gap;
                    due.Add((id, waiter));
                }
            }
        }

        if (due.Count == 0)
        {
            return;
        }

        var keys = new RedisKey[due.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = _keys.Result(due[i].Id);
        }

        var records = new byte[]?[due.Count];
        try
        {
            await ReadAsync(keys, records).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TransportException or ObjectDisposedException)
        {
            return; // Redis is away (the next sweep tries again), or the client is closing
        }

        List<(Waiter, TaskInfo)>? woken = null;
        for (var i = 0; i < due.Count; i++)
        {
            if (records[i] is not { } record || TaskInfoCodec.IsUnfinished(record))
            {
                continue;
            }

            try
            {
                if (TaskInfoCodec.Read(due[i].Id, record) is { State: var state } info && state.IsFinal())
                {
                    (woken ??= []).Add((due[i].Waiter, info));
                }
            }
            catch (InvalidDataException ex)
            {
                // What the waiter's own read would have thrown: the stored bytes are not a record.
                due[i].Waiter.TrySetException(ex);
            }
        }

        if (woken is not null)
        {
            Wake(woken);
        }
    }

    private sealed class Unsubscribe(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await subscriber.UnsubscribeAsync(channel, handler).ConfigureAwait(false);
            }
            catch (Exception ex) when (Transient.IsTransient(ex) || ex is ObjectDisposedException)
            {
                // The connection is gone; so is the subscription.
            }
        }
    }

    /// <summary>How store_states.lua writes a state: <c>n</c>, <c>s</c> or <c>f</c> (the script's header says what each does).</summary>
    private enum StoreMode : byte
    {
        Enqueued,
        Progress,
        Final,
    }

    private static readonly RedisValue[] ModeArguments = ["n", "s", "f"];

    /// <summary>One state to store.</summary>
    private readonly record struct StateWrite(RedisKey Key, byte[] Record, StoreMode Mode, byte[] Frame);

    private readonly record struct StartRequest(RedisKey Key, byte[] Record);

    /// <summary>What start_tasks answers (-1) for a key of another Redis type: that task alone cannot start.</summary>
    private static readonly byte[] WrongType = [];

    /// <summary>The callers waiting for one task: the final state, once known.</summary>
    private sealed class Waiter : TaskCompletionSource<TaskInfo>, IThreadPoolWorkItem
    {
        /// <summary>The final state to complete with when run as a thread-pool item.</summary>
        public TaskInfo? Final { get; set; }
        public int Count { get; set; }

        /// <summary>The sweep that reads this task's state next, and the gap to the one after.</summary>
        public long NextSweep { get; set; }

        public long Gap { get; set; } = 1;

        public void Execute() => TrySetResult(Final!);
    }
}

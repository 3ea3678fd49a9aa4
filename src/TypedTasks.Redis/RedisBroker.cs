using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// The Redis broker. Queues are lists, one per priority; a fetch moves messages atomically into
/// this worker's in-flight list (reliable fetch); settling removes them in the same step as it
/// schedules a retry or records a dead letter. An idle fetcher waits for a pub/sub wake-up on the
/// shared connection, never a blocking command, and never spins.
/// </summary>
public sealed class RedisBroker : ITaskBroker
{
    private const int EnqueueChunk = 500;
    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _db;
    private readonly RedisKeys _keys;
    private readonly RedisTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AsyncSignal _fetchWake = new();
    private readonly AsyncSignal _scheduleWake = new();
    private readonly LazySubscription _wake;
    private readonly ConcurrentDictionary<string, RedisKey[]> _fetchKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Queue, ulong Entry), int> _held = new();
    private readonly ConcurrentDictionary<string, Batcher<byte[], bool>> _acks = new(StringComparer.Ordinal);

    internal RedisBroker(IConnectionMultiplexer connection, bool ownsConnection, RedisKeys keys, RedisTransportOptions options, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _db = connection.GetDatabase();
        _keys = keys;
        _options = options;
        _time = time;
        _logger = logger;
        Outage = new RedisOutage(connection, logger, time);
        WorkerId = $"{Worker.WorkerIdentity.Name}:{Guid.NewGuid().ToString("N")[..8]}";
        _wake = new LazySubscription(connection, keys.Wake, (_, _) =>
        {
            _fetchWake.Set();
            _scheduleWake.Set();
        });
    }

    /// <summary>This process's worker id: its in-flight lists and heartbeats are named by it.</summary>
    public string WorkerId { get; }

    internal RedisKeys Keys => _keys;

    /// <summary>What the worker's Redis loops log, and how long they wait, while Redis is down.</summary>
    internal RedisOutage Outage { get; }

    internal IDatabase Database => _db;

    /// <inheritdoc/>
    public ValueTask EnqueueAsync(string queue, ReadOnlyMemory<byte> body, int priority, CancellationToken cancellationToken = default)
    {
        RedisKeys.CheckQueue(queue);
        return new ValueTask(Transient.Run(RedisScript.Enqueue.RunAsync(_db, [_keys.Ready(queue, Level(priority))], [_keys.Wake.ToString(), queue, body])));
    }

    /// <inheritdoc/>
    /// <remarks>A few hundred messages go in each script call, all calls pipelined.</remarks>
    public async ValueTask EnqueueManyAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, int priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        RedisKeys.CheckQueue(queue);
        var key = _keys.Ready(queue, Level(priority));
        var pending = new List<Task>((bodies.Count / EnqueueChunk) + 1);
        for (var start = 0; start < bodies.Count; start += EnqueueChunk)
        {
            var count = Math.Min(EnqueueChunk, bodies.Count - start);
            var values = new RedisValue[count + 2];
            values[0] = _keys.Wake.ToString();
            values[1] = queue;
            for (var i = 0; i < count; i++)
            {
                values[i + 2] = bodies[start + i];
            }

            pending.Add(RedisScript.Enqueue.RunAsync(_db, [key], values));
        }

        await Transient.Run(Task.WhenAll(pending)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask ScheduleAsync(string queue, ReadOnlyMemory<byte> body, int priority, DateTimeOffset dueAt, CancellationToken cancellationToken = default)
    {
        RedisKeys.CheckQueue(queue);
        return new ValueTask(Transient.Run(RedisScript.Schedule.RunAsync(
            _db, [_keys.Scheduled(queue)], [Member(priority, body.Span), dueAt.ToUnixTimeMilliseconds(), _keys.Wake.ToString(), queue])));
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<ITaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await _wake.EnsureAsync().ConfigureAwait(false);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<ITaskLease>? leases = null;
            var deadline = (_time.GetUtcNow() + _options.WorkerTimeout).ToUnixTimeMilliseconds();
            foreach (var queue in queues)
            {
                var room = max - (leases?.Count ?? 0);
                if (room <= 0)
                {
                    break;
                }

                var keys = _fetchKeys.GetOrAdd(queue, q =>
                {
                    RedisKeys.CheckQueue(q);
                    var k = _keys.ReadyLists(q, extra: 2);
                    k[RedisKeys.PriorityLevels] = _keys.InFlight(q, WorkerId);
                    k[RedisKeys.PriorityLevels + 1] = _keys.Workers(q);
                    return k;
                });
                var result = await Transient.Run(RedisScript.Fetch.RunAsync(_db, keys, [room, WorkerId, deadline])).ConfigureAwait(false);
                var entries = (RedisResult[]?)result ?? [];
                foreach (var entry in entries)
                {
                    var lease = new Lease(this, queue, (byte[])entry!);
                    Hold(lease.Key, +1);
                    (leases ??= new List<ITaskLease>(entries.Length)).Add(lease);
                }
            }

            if (leases is not null)
            {
                return leases;
            }

            // Nothing ready: sleep until a producer publishes a wake-up. After the idle interval
            // with none, return empty: the worker asks again (covering a lost wake-up) and knows
            // that Redis answered.
            if (!await _fetchWake.WaitAsync(_options.IdleFetchInterval, cancellationToken).ConfigureAwait(false))
            {
                return [];
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask PingAsync(CancellationToken cancellationToken = default)
        => new(Transient.Run(_db.PingAsync()));

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        RedisKeys.CheckQueue(queue);
        var records = await Transient.Run(_db.ListRangeAsync(_keys.Dead(queue))).ConfigureAwait(false);
        return [.. records.Select(r => DeadLetterRecord.Read((byte[])r!))];
    }

    /// <inheritdoc/>
    public Task RunWorkerServicesAsync(WorkerDescription worker, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return Task.WhenAll(
            new RedisHeartbeat(this, _options, _time, _logger, worker).RunAsync(stop),
            new RedisRecoverer(this, _options, _time, _logger).RunAsync(worker.Queues, stop),
            new RedisScheduler(this, _options, _time, _scheduleWake).RunAsync(worker.Queues, stop),
            new RedisInFlightSweeper(this, _options, _time, _logger).RunAsync(worker.Queues, stop));
    }

    /// <inheritdoc/>
    public async ValueTask<long> GetQueueLengthAsync(string queue, CancellationToken cancellationToken = default)
    {
        RedisKeys.CheckQueue(queue);
        var lengths = _keys.ReadyLists(queue).Select(key => _db.ListLengthAsync(key));
        return (await Transient.Run(Task.WhenAll(lengths)).ConfigureAwait(false)).Sum();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A worker is live while its heartbeat deadline in the queue's worker set is in the future;
    /// what it published (host, pid, tasks) is read from its worker-info hash. A live worker whose
    /// hash is not written yet is listed with its tasks unknown.
    /// </remarks>
    public async ValueTask<IReadOnlyList<LiveWorker>> GetLiveWorkersAsync(string queue, CancellationToken cancellationToken = default)
    {
        var ids = await GetLiveWorkerIdsAsync(queue).ConfigureAwait(false);
        var infos = await Transient.Run(Task.WhenAll(ids.Select(id => _db.HashGetAllAsync(_keys.WorkerInfo(id.ToString()))))).ConfigureAwait(false);
        var workers = new List<LiveWorker>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            workers.Add(DescribeWorker(ids[i].ToString(), infos[i].ToStringDictionary()));
        }

        return workers;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The sum of the lengths of the in-flight lists of the queue's live workers. A read that
    /// changes nothing, so two round trips (the live ids, then their lengths, pipelined) do; a
    /// worker that dies between them counts until its list is recovered.
    /// </remarks>
    public async ValueTask<long> GetHeldCountAsync(string queue, CancellationToken cancellationToken = default)
    {
        var ids = await GetLiveWorkerIdsAsync(queue).ConfigureAwait(false);
        var lengths = await Transient.Run(Task.WhenAll(ids.Select(id => _db.ListLengthAsync(_keys.InFlight(queue, id.ToString()))))).ConfigureAwait(false);
        return lengths.Sum();
    }

    /// <summary>The ids of the workers of <paramref name="queue"/> whose heartbeat deadline is in the future.</summary>
    private async Task<RedisValue[]> GetLiveWorkerIdsAsync(string queue)
    {
        RedisKeys.CheckQueue(queue);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return await Transient.Run(_db.SortedSetRangeByScoreAsync(_keys.Workers(queue), now, double.PositiveInfinity, Exclude.Start)).ConfigureAwait(false);
    }

    private static LiveWorker DescribeWorker(string id, Dictionary<string, string> info)
    {
        // The id is host:pid:suffix; the hash says the same once written.
        var parts = id.Split(':');
        var host = info.TryGetValue("host", out var h) ? h : parts[0];
        var pidText = info.TryGetValue("pid", out var p) ? p : parts.ElementAtOrDefault(1);
        var pid = int.TryParse(pidText, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        IReadOnlyList<string> queues = info.TryGetValue("queues", out var q) ? q.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
        IReadOnlyList<string>? tasks = info.TryGetValue(RedisHeartbeat.TasksField, out var t) ? t.Split(' ', StringSplitOptions.RemoveEmptyEntries) : null;
        return new LiveWorker(id, host, pid, queues, tasks);
    }

    /// <summary>What names an in-flight entry of a queue among the leases of this process: the queue and a hash of the entry.</summary>
    internal static (string Queue, ulong Entry) EntryKey(string queue, ReadOnlySpan<byte> entry) => (queue, System.IO.Hashing.XxHash64.HashToUInt64(entry));

    /// <summary>Whether a lease of this process holds the in-flight entry.</summary>
    internal bool IsHeld((string Queue, ulong Entry) key) => _held.ContainsKey(key);

    private void Hold((string Queue, ulong Entry) key, int delta)
    {
        if (_held.AddOrUpdate(key, static (_, d) => d, static (_, n, d) => n + d, delta) <= 0)
        {
            _held.TryRemove(new KeyValuePair<(string, ulong), int>(key, 0));
        }
    }

    /// <summary>Removes in-flight entries of this worker, the acks that arrived together in one ack.lua call per queue.</summary>
    private Task<bool> AckAsync(string queue, byte[] entry)
        => _acks.GetOrAdd(queue, q =>
        {
            var key = _keys.InFlight(q, WorkerId);
            return new Batcher<byte[], bool>(async (entries, _) =>
            {
                var values = new RedisValue[entries.Count];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = entries[i];
                }

                await Transient.Run(RedisScript.Ack.RunAsync(_db, [key], values)).ConfigureAwait(false);
            }, shortCallers: true);
        }).Add(entry);

    /// <summary>Puts an in-flight entry of this worker back at the head of its ready list; false when it was gone.</summary>
    internal async Task<bool> RequeueAsync(string queue, byte[] entry)
    {
        var keys = _keys.ReadyLists(queue, leading: 1);
        keys[0] = _keys.InFlight(queue, WorkerId);
        return (long)await Transient.Run(RedisScript.Requeue.RunAsync(_db, keys, [entry, _keys.Wake.ToString(), queue])).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _wake.DisposeAsync().ConfigureAwait(false);
        Outage.Dispose();
        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

    }

    internal static int Level(int priority) => Math.Clamp(priority, 0, TaskDefaults.MaxPriority);

    /// <summary>A scheduled-set member or in-flight entry: one priority byte, then the body.</summary>
    internal static byte[] Member(int priority, ReadOnlySpan<byte> body)
    {
        var member = new byte[body.Length + 1];
        member[0] = (byte)Level(priority);
        body.CopyTo(member.AsSpan(1));
        return member;
    }

    /// <summary>
    /// A message in this worker's in-flight list. Settling it is retried by the worker while Redis
    /// is unreachable, so it counts as settled only once a settle succeeded.
    /// </summary>
    private sealed class Lease(RedisBroker broker, string queue, byte[] entry) : ITaskLease
    {
        private int _settled;

        /// <summary>This lease's entry among the held ones, hashed once.</summary>
        public (string Queue, ulong Entry) Key { get; } = EntryKey(queue, entry);

        public string Queue => queue;

        public ReadOnlyMemory<byte> Body => entry.AsMemory(1);

        private RedisKey InFlight => broker._keys.InFlight(queue, broker.WorkerId);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask AckAsync(CancellationToken cancellationToken = default)
        {
            ThrowIfSettled();
            await broker.AckAsync(queue, entry).ConfigureAwait(false);
            Settled();
        }

        public async ValueTask RetryAsync(ReadOnlyMemory<byte> body, int priority, DateTimeOffset dueAt, CancellationToken cancellationToken = default)
        {
            ThrowIfSettled();
            await Transient.Run(RedisScript.Retry.RunAsync(
                broker._db,
                [InFlight, broker._keys.Scheduled(queue)],
                [entry, Member(priority, body.Span), dueAt.ToUnixTimeMilliseconds(), broker._keys.Wake.ToString(), queue])).ConfigureAwait(false);
            Settled();
        }

        public async ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken = default)
        {
            ThrowIfSettled();
            var record = DeadLetterRecord.Write(queue, entry.AsSpan(1), reason, broker._time.GetUtcNow());
            await Transient.Run(RedisScript.DeadLetter.RunAsync(
                broker._db,
                [InFlight, broker._keys.Dead(queue)],
                [entry, record, broker._options.DeadLetterLimit])).ConfigureAwait(false);
            Settled();
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _settled, 1) != 0)
            {
                return;
            }

            try
            {
                await broker.RequeueAsync(queue, entry).ConfigureAwait(false);
            }
            catch (Transport.TransportException ex)
            {
                // It stays in this worker's in-flight list; the in-flight sweep (or, once this
                // worker has stopped, another worker's recovery) returns it to the queue.
                RedisLog.RequeueFailed(broker._logger, queue, Transient.Reason(ex));
            }
            finally
            {
                broker.Hold(Key, -1);
            }
        }

        private void Settled()
        {
            if (Interlocked.Exchange(ref _settled, 1) == 0)
            {
                broker.Hold(Key, -1);
            }
        }

        private void ThrowIfSettled()
        {
            if (Volatile.Read(ref _settled) != 0)
            {
                throw new InvalidOperationException("This lease was already settled.");
            }
        }
    }
}

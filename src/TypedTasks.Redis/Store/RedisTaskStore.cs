using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Redis.Store;

/// <summary>
/// The task store on Redis (docs/decisions/0001-task-store-layout.md): records in bucket hashes of
/// 128 tasks per queue, a list per priority of pending sequences, sorted sets of scheduled,
/// retrying and running tasks, capped lists of final ones. Every transition is one Lua script on
/// the queue's hash slot; concurrent enqueues, completions and reads are grouped into one script
/// call per slot (<see cref="Batcher{TRequest, TResponse}"/>). Runs on a single server and on
/// Redis Cluster.
/// </summary>
public sealed partial class RedisTaskStore : ITaskStore, IScheduleStore, IScheduleChangeFeed, IDueTimeFeed
{
    // Entries per script call: large enough to amortise a call, small enough that one call never
    // holds the server for long.
    private const int BatchLimit = 256;
    private const int SweepLimit = 1000;

    // Unsealed workflow joins a recovery call names per queue (recover.lua): a rare case, looked at one join at a time.
    private const int SendingLimit = 10;
    private const int MigrateBatch = 500;

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _db;
    private readonly RedisTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly long _ttlMs;
    private readonly string _prefix;
    private readonly RedisChannel _wakeChannel;
    private readonly RedisChannel _doneChannel;
    private readonly RedisChannel _cancelChannel;
    private readonly RedisChannel _handChannel;
    private readonly string _epoch = NewEpoch();
    private readonly Batcher<EnqueueRequest, EnqueueAnswer> _enqueues;
    private readonly Batcher<CompleteRequest, CompleteAnswer> _completes;
    private readonly Batcher<ReadRequest, ReadAnswer> _reads;
    private readonly Batcher<AdvanceRequest, bool> _advances;
    private readonly ConcurrentDictionary<string, byte> _knownQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _migrated = new(StringComparer.Ordinal);
    private readonly LazySubscription _wake;
    private readonly LazySubscription _done;
    private readonly LazySubscription _hand;
    private readonly LazySubscription _canceled;
    private volatile QueueKey? _lastSeqKey;

    // What the connection is to (Servers): 0 not known yet; else 1, plus 2 for a Cluster and 4
    // when a replica is among its servers.
    private int _servers;

    /// <summary>
    /// A store on <paramref name="connection"/>, which stays the caller's (it is not closed on dispose).
    /// </summary>
    /// <param name="connection">The Redis connection (a single server or a Cluster).</param>
    /// <param name="options">Key prefix, lease (<see cref="RedisTransportOptions.WorkerTimeout"/>) and heartbeat, idle fetch interval, final index caps; defaults when null.</param>
    /// <param name="resultTtl">How long a final record is kept at least; <see cref="TaskDefaults.ResultTtl"/> when null.</param>
    /// <param name="time">The clock; the system clock when null.</param>
    public RedisTaskStore(IConnectionMultiplexer connection, RedisTransportOptions? options = null, TimeSpan? resultTtl = null, TimeProvider? time = null)
        : this(connection, ownsConnection: false, options, resultTtl, time)
    {
    }

    internal RedisTaskStore(IConnectionMultiplexer connection, bool ownsConnection, RedisTransportOptions? options, TimeSpan? resultTtl, TimeProvider? time)
    {
        ArgumentNullException.ThrowIfNull(connection);
        options ??= new RedisTransportOptions();
        options.Validate();
        var ttl = resultTtl ?? TaskDefaults.ResultTtl;
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(resultTtl), ttl, "The result TTL must be positive.");
        }

        if (RedisTransportOptions.KeyPrefixProblem(options.KeyPrefix) is { } problem)
        {
            throw new ArgumentException($"TypedTasks:RedisTransport:KeyPrefix (RedisTransportOptions.KeyPrefix): {problem}.", nameof(options));
        }

        _connection = connection;
        _ownsConnection = ownsConnection;
        _db = connection.GetDatabase();
        _options = options;
        _time = time ?? TimeProvider.System;
        _ttlMs = (long)ttl.TotalMilliseconds;
        _prefix = options.KeyPrefix;
        _wakeChannel = RedisChannel.Literal(_prefix + ":store:wake");
        _doneChannel = RedisChannel.Literal(_prefix + ":store:done");
        _cancelChannel = RedisChannel.Literal(_prefix + ":store:cancel");
        _handChannel = RedisChannel.Literal(_prefix + ":store:hand:" + _epoch);
        _enqueues = new Batcher<EnqueueRequest, EnqueueAnswer>(WriteEnqueuesAsync);
        _completes = new Batcher<CompleteRequest, CompleteAnswer>(WriteCompletionsAsync);
        _reads = new Batcher<ReadRequest, ReadAnswer>(ReadManyAsync);
        _advances = new Batcher<AdvanceRequest, bool>(WriteAdvancesAsync);
        _wake = new LazySubscription(connection, _wakeChannel, (_, message) => OnWake(message));
        _done = new LazySubscription(connection, _doneChannel, (_, message) => OnDone(message));
        // In order: the starts of one queue come from one node in the order they were made, and
        // a mark after them (StopFetchingAsync) must be heard after them.
        _hand = new LazySubscription(connection, _handChannel, (_, message) => OnHand(message), ordered: true);
        // A kept lease whose task is canceled is dropped: no fetch returns it to run.
        _canceled = new LazySubscription(connection, _cancelChannel, (_, message) => OnCanceledHeard(message));
        _waitersBySpan = _waiters.GetAlternateLookup<ReadOnlySpan<char>>();
        _watchedBySpan = _watched.GetAlternateLookup<ReadOnlySpan<char>>();
        connection.ConnectionRestored += OnConnectionRestored;
        connection.ConnectionFailed += OnConnectionFailed;
    }

    /// <summary>
    /// Connects to Redis and opens a store that owns the connection (closed on dispose). The host
    /// may be down: the client keeps connecting in the background and calls fail with
    /// <see cref="TransportException"/> meanwhile.
    /// </summary>
    /// <param name="connectionString">A StackExchange.Redis configuration string, such as <c>localhost:6379</c>.</param>
    /// <param name="options">Key prefix, lease and heartbeat, idle fetch interval, final index caps; defaults when null.</param>
    /// <param name="resultTtl">How long a final record is kept at least; <see cref="TaskDefaults.ResultTtl"/> when null.</param>
    /// <param name="cancellationToken">Stops waiting for the connection.</param>
    public static async Task<RedisTaskStore> ConnectAsync(string connectionString, RedisTransportOptions? options = null, TimeSpan? resultTtl = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var configuration = RedisTransport.Parse(connectionString);
        var connection = await Transient.Run(ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken)).ConfigureAwait(false);
        try
        {
            return new RedisTaskStore(connection, ownsConnection: true, options, resultTtl, null);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    public TimeSpan HeartbeatInterval => _options.HeartbeatInterval;

    private TimeSpan LeaseDuration => _options.LeaseDuration ?? _options.WorkerTimeout;

    // ---- Producer ----

    /// <inheritdoc/>
    public ValueTask<string> EnqueueAsync(string queue, TaskToEnqueue task, CancellationToken cancellationToken = default)
    {
        try
        {
            CheckQueue(queue);
            Check(task, nameof(task));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<string>(ex);
        }

        // The task is not kept in the state machine of the wait: only the batcher's answer is.
        return IdOfAsync(_enqueues.Add(new EnqueueRequest(queue, [task])), queue);
    }

    private static async ValueTask<string> IdOfAsync(Task<EnqueueAnswer> answer, string queue)
        => (await answer.ConfigureAwait(false)).Ids(queue, "task")[0];

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<string>> EnqueueManyAsync(string queue, IReadOnlyList<TaskToEnqueue> tasks, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Count == 0)
        {
            return [];
        }

        var copy = new TaskToEnqueue[tasks.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            Check(tasks[i], $"{nameof(tasks)}[{i}]");
            copy[i] = tasks[i];
        }

        var answer = await _enqueues.Add(new EnqueueRequest(queue, copy)).ConfigureAwait(false);
        return answer.Ids(queue, nameof(tasks));
    }

    private static void CheckQueue(string queue)
    {
        QueueName.Check(queue);
    }

    private static void Check(TaskToEnqueue task, string parameter)
    {
        if (task.Envelope.IsEmpty)
        {
            throw new ArgumentException("The task's envelope is empty: a task needs its encoded envelope (name, arguments, times).", parameter);
        }

        if (task.Priority is < 0 or > TaskDefaults.MaxPriority)
        {
            throw new ArgumentOutOfRangeException(parameter, task.Priority, $"A task's priority is 0 to {TaskDefaults.MaxPriority}.");
        }

        if (task.ChosenId is { } chosen && (string.IsNullOrWhiteSpace(chosen) || chosen.Length > EnqueueOptions.MaxTaskIdLength))
        {
            throw new ArgumentException($"A chosen task id must not be blank and must have at most {EnqueueOptions.MaxTaskIdLength} characters.", parameter);
        }

        if (task.UniqueProblem is { } unique)
        {
            throw new ArgumentException($"The task {unique}. Nothing was stored.", parameter);
        }

        if (task.LimitsProblem is { } limits)
        {
            throw new ArgumentException($"The task {limits}. Nothing was stored.", parameter);
        }

        if (task.Link is { } link)
        {
            if (task.ChosenId is null)
            {
                throw new ArgumentException("A task with a workflow link needs a chosen id: the store looks for links of tasks with one only. Nothing was stored.", parameter);
            }

            CheckQueue(link.Queue);
        }
    }

    /// <summary>
    /// Writes a batch of enqueues: one script call per hash slot and up to <see cref="BatchLimit"/>
    /// tasks (a larger request goes alone), all pipelined; each request is answered on its own (a
    /// bad queue refuses only its requests).
    /// </summary>
    private async Task WriteEnqueuesAsync(IReadOnlyList<EnqueueRequest> requests, EnqueueAnswer[] answers)
    {
        var now = _time.GetUtcNow();
        var mark = MarkForWatch();
        var announce = new List<Task>();
        foreach (var request in requests)
        {
            if (!_knownQueues.ContainsKey(request.Queue))
            {
                announce.Add(_db.SetAddAsync(QueuesKey, request.Queue));
            }
        }

        await SlotGroups.RunAsync(_connection, requests.Count, i => SeqKey(requests[i].Queue), BatchLimit, group =>
        {
            var (keys, index) = QueuesOf(group, i => requests[i].Queue);
            var args = Args(now, 2 + (2 * group.Count) + (8 * group.Sum(i => requests[i].Tasks.Length)));
            args.Add(_epoch);
            // On a single server a hand-off first asks whether the idle store still listens (PUBSUB
            // NUMSUB, enqueue.lua); a Cluster node, or a primary with replicas, counts only its own
            // subscribers.
            args.Add(CountsSubscribers ? 1 : 0);
            for (var g = 0; g < group.Count; g++)
            {
                args.Add(index[g]);
                args.Add(requests[group[g]].Tasks.Length);
                foreach (var task in requests[group[g]].Tasks)
                {
                    args.Add(task.Priority);
                    args.Add(task.DueAt is { } due && due > now ? due.ToUnixTimeMilliseconds() : 0);
                    args.Add(task.ChosenId ?? string.Empty);
                    args.Add(task.Envelope);
                    args.Add(task.Link is { } link ? LinkBytes(link) : RedisValue.EmptyString);
                    args.Add(task.UniqueKey ?? string.Empty);
                    args.Add(task.UniqueFor is { } span ? (long)Math.Ceiling(span.TotalMilliseconds) : 0);
                    args.Add(task.Limits is { Count: > 0 } limits ? LimitsBytes(limits, task.Envelope) : RedisValue.EmptyString);
                }
            }

            return RunAsync(StoreScript.Enqueue, keys, args);
        },
        (group, result) =>
        {
            var all = (RedisResult[])result!;
            for (var g = 0; g < group.Count; g++)
            {
                var answer = (RedisResult[])all[g]!;
                var code = (string)answer[0]!;
                if (code != "i")
                {
                    answers[group[g]] = new EnqueueAnswer(null, (string)answer[1]!, code[0]);
                    continue;
                }

                var ids = new string[answer.Length - 1];
                for (var i = 0; i < ids.Length; i++)
                {
                    ids[i] = (string)answer[i + 1]!;
                }

                answers[group[g]] = new EnqueueAnswer(ids, null, default);
            }
        },
        i => requests[i].Tasks.Length).ConfigureAwait(false);
        if (mark is { } sent)
        {
            Watch(sent, requests, answers);
        }

        if (announce.Count > 0)
        {
            await Transient.Run(Task.WhenAll(announce)).ConfigureAwait(false);
            foreach (var request in requests)
            {
                _knownQueues.TryAdd(request.Queue, 0);
            }
        }
    }

    // ---- Readers ----

    /// <inheritdoc/>
    public async ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var answer = await ReadAsync(id).ConfigureAwait(false);
        return answer.Record is { } record ? await InfoAsync(id, answer.Queue!, StoreRecord.Read(id, record)).ConfigureAwait(false) : null;
    }

    /// <inheritdoc/>
    public async ValueTask<StoredTask?> GetStoredAsync(string id, CancellationToken cancellationToken = default)
    {
        var answer = await ReadAsync(id).ConfigureAwait(false);
        if (answer.Record is not { } bytes)
        {
            return null;
        }

        var record = StoreRecord.Read(id, bytes);
        await LearnWorkersAsync([record.Worker]).ConfigureAwait(false);
        return Stored(id, answer.Queue!, record, answer.Due);
    }

    /// <summary>A stored task; its worker's number must have been looked up (<see cref="LearnWorkersAsync"/>).</summary>
    private StoredTask Stored(string id, string queue, StoreRecord record, long due)
        => new(record.ToInfo(id, queue, WorkerName(record.Worker)), record.Envelope, record.Priority, due >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(due) : null);

    /// <summary>Reads one id through the read batcher; a lost task throws, a malformed id reads as nothing.</summary>
    private async Task<ReadAnswer> ReadAsync(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!TaskIds.TrySplit(id, out var queue, out var own))
        {
            return default;
        }

        var answer = await _reads.Add(new ReadRequest(queue, own)).ConfigureAwait(false);
        return answer.Lost ? throw new TaskNotFoundException(id, lost: true) : answer with { Queue = queue };
    }

    /// <summary>Reads a batch of ids: one script call per hash slot, all pipelined.</summary>
    private Task ReadManyAsync(IReadOnlyList<ReadRequest> requests, ReadAnswer[] answers)
        => SlotGroups.RunAsync(_connection, requests.Count, i => SeqKey(requests[i].Queue), BatchLimit, group =>
        {
            var (keys, index) = QueuesOf(group, i => requests[i].Queue);
            var args = Args(_time.GetUtcNow(), 2 * group.Count);
            for (var g = 0; g < group.Count; g++)
            {
                args.Add(index[g]);
                args.Add(requests[group[g]].Own);
            }

            return RunAsync(StoreScript.Read, keys, args);
        },
        (group, result) =>
        {
            var all = (RedisResult[])result!;
            for (var g = 0; g < group.Count; g++)
            {
                var code = (string)all[3 * g]!;
                answers[group[g]] = code switch
                {
                    "r" => new ReadAnswer((byte[])all[(3 * g) + 1]!, (long)all[(3 * g) + 2], false, null),
                    "l" => new ReadAnswer(null, -1, true, null),
                    _ => default,
                };
            }
        });

    /// <inheritdoc/>
    public async ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!TaskIds.TrySplit(id, out var queue, out var own))
        {
            return false;
        }

        return await CancelAsync(queue, own, startedToo: true).ConfigureAwait(false);
    }

    /// <summary>Cancels one task (only if it has not started, unless <paramref name="startedToo"/>); a workflow member's outcome is delivered before this returns.</summary>
    private async Task<bool> CancelAsync(string queue, string own, bool startedToo)
    {
        var args = Args(_time.GetUtcNow(), 2);
        args.Add(own);
        args.Add(startedToo ? string.Empty : "p");
        var all = (RedisResult[])(await RunAsync(StoreScript.Cancel, [SeqKey(queue)], args).ConfigureAwait(false))!;
        if ((long)all[0] != 1)
        {
            return false;
        }

        await FollowUpAsync(queue, Followups(all, 1)).ConfigureAwait(false);
        return true;
    }

    // ---- Worker ----

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        if (queues.Count == 0)
        {
            throw new ArgumentException("A fetch needs at least one queue.", nameof(queues));
        }

        foreach (var queue in queues)
        {
            CheckQueue(queue);
        }

        await _wake.EnsureAsync().ConfigureAwait(false);

        // Before the look that may register this store as idle: no start handed to it is missed.
        await _hand.EnsureAsync().ConfigureAwait(false);
        await _canceled.EnsureAsync().ConfigureAwait(false);

        // Registered before the first look, so that a wake-up between the look and the wait counts.
        var fetcher = new Fetcher(queues);
        lock (_fetchers)
        {
            _fetchers.Add(fetcher);
        }

        try
        {
            // On the worker's one-second grid, with its other periodic duties: one wake-up for all.
            var start = _time.GetUtcNow();
            var until = start + Worker.DutyTick.Align(start, _options.IdleFetchInterval);
            var key = string.Join('\n', queues);

            // The last look at these queues found nothing (and registered this store as idle there)
            // and no wake-up has come since: they are still empty, and the first task pushed there
            // wakes this fetcher (registered above), or is handed to it. Such a fetch does not
            // look, neither at its start nor when its wait ends, unless the last look is older
            // than the safety interval. A fetch after one that returned tasks does look, even when
            // that one emptied the queues: its look registers the store as idle, so that the next
            // task is handed to it rather than announced and fetched.
            var look = !Quiet(key, queues.Count);
            while (true)
            {
                // Tasks handed to this store first (no call).
                var leases = await HandedAsync().ConfigureAwait(false);
                if (leases.Count == 0 && look)
                {
                    leases = await LookAsync().ConfigureAwait(false);
                }

                look = true;
                var left = until - _time.GetUtcNow();
                if (leases.Count > 0 || left <= TimeSpan.Zero || !await fetcher.Signal.WaitAsync(left, cancellationToken).ConfigureAwait(false))
                {
                    if (leases.Count == 0)
                    {
                        leases = await HandedAsync().ConfigureAwait(false);
                    }

                    return leases.Count > 0 || Quiet(key, queues.Count) ? leases : await LookAsync().ConfigureAwait(false);
                }
            }

            async Task<IReadOnlyList<TaskLease>> HandedAsync()
            {
                var handed = TakeHanded(fetcher, max);
                if (handed.Count > 0)
                {
                    // The idle entry stands, its room lowered by each hand-off; past half the idle
                    // fetch interval the next fetch looks, which writes it again (room and time)
                    // before it lapses.
                    var now = _time.GetUtcNow();
                    if (_drained.TryGetValue(key, out var drained) && now - drained.At > _options.IdleFetchInterval / 2)
                    {
                        _drained.TryRemove(key, out _);
                    }

                    await HoldLeasesAsync((now + LeaseDuration).ToUnixTimeMilliseconds()).ConfigureAwait(false);
                }

                return handed;
            }

            async Task<IReadOnlyList<TaskLease>> LookAsync()
            {
                var wakes = Interlocked.Read(ref _wakes);
                var started = _time.GetUtcNow();
                var (leases, more) = await FetchOnceAsync(queues, max).ConfigureAwait(false);

                // A fetch that stopped at its bound of tasks held back by limits left tasks it did
                // not reach: look again at once (bounded) rather than wait for a wake that may not come.
                for (var again = 0; more && leases.Count < max && again < 64; again++)
                {
                    var (further, still) = await FetchOnceAsync(queues, max - leases.Count).ConfigureAwait(false);
                    leases = [.. leases, .. further];
                    more = still;
                }

                if (leases.Count == 0 && !more)
                {
                    _drained[key] = new Drained(wakes, started);
                }
                else
                {
                    _drained.TryRemove(key, out _);
                }

                return leases;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_fetchers)
            {
                _fetchers.Remove(fetcher);
            }

            // A worker that stops fetching is handed nothing more; what it kept goes back.
            await StopFetchingAsync(fetcher.Queues).ConfigureAwait(false);
            throw;
        }
        finally
        {
            lock (_fetchers)
            {
                _fetchers.Remove(fetcher);
            }
        }
    }

    /// <summary>One fetch: a script for all queues on a single server; on a Cluster one per slot, in the queues' order.</summary>
    private async Task<(IReadOnlyList<TaskLease> Leases, bool More)> FetchOnceAsync(IReadOnlyList<string> queues, int max)
    {
        var leases = new List<TaskLease>();
        var more = false;
        var started = _time.GetUtcNow();
        foreach (var group in Groups(queues))
        {
            var now = _time.GetUtcNow();
            var args = Args(now, 7);
            var room = max - leases.Count;
            args.Add(room);
            args.Add((now + LeaseDuration).ToUnixTimeMilliseconds());
            args.Add(await WorkerNumberAsync().ConfigureAwait(false));
            AddIdleArgs(args, now, group);
            var all = (RedisResult[])(await RunAsync(StoreScript.Fetch, [.. group.Select(SeqKey)], args).ConfigureAwait(false))!;
            // A start frame per task, then "more" when the call held back as many tasks as it may.
            var held = all.Length > 0 && ((byte[])all[^1]!).Length < HandHead;
            more |= held;
            var count = held ? all.Length - 1 : all.Length;
            Registered(group, count == 0 && !held);
            for (var i = 0; i < count; i++)
            {
                var at = 0;
                leases.Add(ReadStart((byte[])all[i]!, ref at, group).Lease);
            }

            if (leases.Count >= max)
            {
                break;
            }
        }

        if (leases.Count > 0)
        {
            // Before the leases are handed out: a process that stops now is found by the registry.
            // (No lease of the call expires earlier than this deadline.)
            var deadline = (started + LeaseDuration).ToUnixTimeMilliseconds();
            Issue(leases, deadline, started.ToUnixTimeMilliseconds());
            await HoldLeasesAsync(deadline).ConfigureAwait(false);
        }

        return (leases, more);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> CompleteAsync(TaskLease lease, TaskCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!TaskIds.TrySplit(lease.Id, out var queue, out var own))
        {
            return false;
        }

        var (kind, payload) = completion.Kind switch
        {
            TaskCompletionKind.Succeeded => ("s", completion.Result),
            TaskCompletionKind.Failed => ("f", (ReadOnlyMemory<byte>)StoreRecord.WriteError(completion.Error!)),
            TaskCompletionKind.Retry => ("r", StoreRecord.WriteError(completion.Error!)),
            TaskCompletionKind.Expired => ("e", ReadOnlyMemory<byte>.Empty),
            TaskCompletionKind.Canceled => ("c", ReadOnlyMemory<byte>.Empty),
            TaskCompletionKind.Released => ("l", ReadOnlyMemory<byte>.Empty),
            _ => throw new ArgumentOutOfRangeException(nameof(completion), completion.Kind, "Unknown completion kind."),
        };
        var due = completion.RetryAt?.ToUnixTimeMilliseconds() ?? 0;
        if (kind == "l")
        {
            await ReleaseKeptAsync(queue).ConfigureAwait(false);
        }

        if (kind == "r")
        {
            // Before the call: heard early, the retry costs at most one look too many.
            HeardDue(queue, due);
        }

        var name = kind == "s" ? StoreRecord.NameOf(lease.Envelope) : [];
        var answer = await _completes.Add(new CompleteRequest(queue, own, lease.Fence, kind, payload, due, name)).ConfigureAwait(false);
        if (answer.Outcome >= 0)
        {
            // Settled, or not this lease's any more: either way not a lease of this store to watch.
            Settled(lease);
        }

        if (answer.Followups is { } followups)
        {
            await FollowUpAsync(queue, followups).ConfigureAwait(false);
        }

        return answer.Outcome switch
        {
            1 => true,
            0 => false,
            _ => throw new InvalidDataException($"Task {lease.Id} cannot be settled, and was left as it was: {answer.Problem}."),
        };
    }

    /// <summary>Settles a batch of leases: one script call per hash slot, all pipelined.</summary>
    private Task WriteCompletionsAsync(IReadOnlyList<CompleteRequest> requests, CompleteAnswer[] answers)
        => SlotGroups.RunAsync(_connection, requests.Count, i => SeqKey(requests[i].Queue), BatchLimit, group =>
        {
            var (keys, index) = QueuesOf(group, i => requests[i].Queue);
            var args = Args(_time.GetUtcNow(), 7 * group.Count);
            for (var g = 0; g < group.Count; g++)
            {
                var r = requests[group[g]];
                args.Add(index[g]);
                args.Add(r.Own);
                args.Add(r.Fence);
                args.Add(r.Kind);
                args.Add(r.Payload);
                args.Add(r.Due);
                args.Add(r.Name);
            }

            return RunAsync(StoreScript.Complete, keys, args);
        },
        (group, result) =>
        {
            var all = (RedisResult[])result!;
            var followups = Followups(all, 2 * group.Count);

            // Each request's follow-ups (item: its place in the call, from 1), sorted out in one pass.
            List<Followup>?[]? byItem = null;
            foreach (var followup in followups)
            {
                if (followup.Item >= 1 && followup.Item <= group.Count)
                {
                    byItem ??= new List<Followup>?[group.Count];
                    (byItem[followup.Item - 1] ??= []).Add(followup);
                }
            }

            for (var g = 0; g < group.Count; g++)
            {
                answers[group[g]] = new CompleteAnswer((long)all[2 * g], (string)all[(2 * g) + 1]!, byItem?[g]);
            }
        });

    /// <inheritdoc/>
    public async ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onCanceled);
        var subscription = new LazySubscription(_connection, _cancelChannel, (_, message) => onCanceled(message.ToString()));
        await subscription.EnsureAsync().ConfigureAwait(false);
        return subscription;
    }

    /// <summary>
    /// Moves the messages a 0.1 installation left in <paramref name="queues"/> (ready lists,
    /// in-flight lists of workers whose heartbeat ended, the scheduled set) into the store, so
    /// that they run instead of being lost: each keeps its id (the id in its envelope) as a
    /// chosen id. One script call per batch of messages; nothing leaves an old key before it is
    /// written to the new ones. Returns how many messages were moved; a worker calls it at start.
    /// </summary>
    /// <param name="queues">The queues to look at.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public async Task<int> MigrateLegacyAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        var moved = 0;
        foreach (var queue in Checked(queues))
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var args = Args(_time.GetUtcNow(), 2);
                args.Add(_epoch);
                args.Add(MigrateBatch);
                var n = (int)(long)await RunAsync(StoreScript.Migrate, [SeqKey(queue)], args).ConfigureAwait(false);
                moved += n;
                if (n == 0)
                {
                    break;
                }
            }
        }

        return moved;
    }

    // ---- Tools ----

    /// <inheritdoc/>
    public ValueTask PingAsync(CancellationToken cancellationToken = default)
        => new(Transient.Run(_db.PingAsync()));

    /// <inheritdoc/>
    public async ValueTask<StateCounts> CountAsync(string queue, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        var all = (RedisResult[])(await RunAsync(StoreScript.Count, [SeqKey(queue)], Args(_time.GetUtcNow(), 0)).ConfigureAwait(false))!;
        return new StateCounts((long)all[0], (long)all[1], (long)all[2], (long)all[3], (long)all[4], (long)all[5], (long)all[6], (long)all[7]) { Held = (long)all[8] };
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredTask>> ListAsync(string queue, TaskState state, long offset, int count, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Not a task state.");
        }

        if (count == 0)
        {
            return [];
        }

        var args = Args(_time.GetUtcNow(), 3);
        args.Add((int)state);
        args.Add(offset);
        args.Add(count);
        return await PageAsync(queue, (RedisResult[])(await RunAsync(StoreScript.List, [SeqKey(queue)], args).ConfigureAwait(false))!).ConfigureAwait(false);
    }

    /// <summary>The tasks of a page a script answered with three values per task: id, record, due time (-1: none).</summary>
    private async Task<IReadOnlyList<StoredTask>> PageAsync(string queue, RedisResult[] all)
    {
        var records = new StoreRecord[all.Length / 3];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = StoreRecord.Read((string)all[3 * i]!, (byte[])all[(3 * i) + 1]!);
        }

        await LearnWorkersAsync(records.Select(r => r.Worker)).ConfigureAwait(false);
        var page = new List<StoredTask>(records.Length);
        for (var i = 0; i < records.Length; i++)
        {
            page.Add(Stored((string)all[3 * i]!, queue, records[i], (long)all[(3 * i) + 2]));
        }

        return page;
    }

    /// <inheritdoc/>
    public ValueTask<int> RequeueAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
        => ByIdsAsync(StoreScript.Requeue, ids);

    /// <inheritdoc/>
    public ValueTask<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
        => ByIdsAsync(StoreScript.Delete, ids);

    /// <summary>Runs a script that takes ids (queue index, own part): one call per slot and batch; malformed ids are skipped.</summary>
    private async ValueTask<int> ByIdsAsync(RedisScript script, IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Unwatch(ids);
        var split = new List<ReadRequest>(ids.Count);
        foreach (var id in ids)
        {
            if (id is not null && TaskIds.TrySplit(id, out var queue, out var own))
            {
                split.Add(new ReadRequest(queue, own));
            }
        }

        var total = 0;
        var followUps = new List<(string Queue, List<Followup> Followups)>();
        await SlotGroups.RunAsync(_connection, split.Count, i => SeqKey(split[i].Queue), BatchLimit, group =>
        {
            var (keys, index) = QueuesOf(group, i => split[i].Queue);
            var args = Args(_time.GetUtcNow(), 2 * group.Count);
            for (var g = 0; g < group.Count; g++)
            {
                args.Add(index[g]);
                args.Add(split[group[g]].Own);
            }

            return RunAsync(script, keys, args);
        },
        (group, result) =>
        {
            if (result.Resp2Type != ResultType.Array)
            {
                total += (int)(long)result;
                return;
            }

            // delete.lua: the count, then what its workflow members' ends left to do.
            var all = (RedisResult[])result!;
            total += (int)(long)all[0];
            foreach (var byRequest in Followups(all, 1).GroupBy(f => f.Item))
            {
                followUps.Add((split[group[(int)byRequest.Key - 1]].Queue, [.. byRequest]));
            }
        }).ConfigureAwait(false);
        foreach (var (queue, followups) in followUps)
        {
            await FollowUpAsync(queue, followups).ConfigureAwait(false);
        }

        return total;
    }

    /// <inheritdoc/>
    public async ValueTask<int> PurgeAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        UnwatchQueue(queue);
        var args = Args(_time.GetUtcNow(), 1);
        args.Add(Math.Min(max, 10_000));
        // The count, then what its workflow members' ends left to do (purge.lua).
        var all = (RedisResult[])(await RunAsync(StoreScript.Purge, [SeqKey(queue)], args).ConfigureAwait(false))!;
        await FollowUpAsync(queue, Followups(all, 1)).ConfigureAwait(false);
        return (int)(long)all[0];
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<string>> GetQueuesAsync(CancellationToken cancellationToken = default)
    {
        var members = await Transient.Run(_db.SetMembersAsync(QueuesKey)).ConfigureAwait(false);
        var names = new SortedSet<string>(members.Select(m => (string)m!), StringComparer.Ordinal);
        foreach (var worker in await GetWorkersAsync(cancellationToken).ConfigureAwait(false))
        {
            names.UnionWith(worker.Queues);
        }

        // A name no queue can have (written by hand: nothing is ever enqueued under it) is left
        // out, so that it does not fail every caller that goes on to read the queues.
        names.RemoveWhere(name => QueueName.Problem(name) is not null);
        return [.. names];
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _connection.ConnectionRestored -= OnConnectionRestored;
        _connection.ConnectionFailed -= OnConnectionFailed;
        lock (_gate)
        {
            _sweep?.Dispose();
            _sweep = null;
        }

        await StopFetchingAsync(null).ConfigureAwait(false);
        await _wake.DisposeAsync().ConfigureAwait(false);
        await _done.DisposeAsync().ConfigureAwait(false);
        await _hand.DisposeAsync().ConfigureAwait(false);
        await _canceled.DisposeAsync().ConfigureAwait(false);
        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ---- Keys and calls ----

    private RedisKey QueuesKey => $"{_prefix}:queues";

    internal RedisKey SeqKey(string queue)
    {
        // Every enqueue, completion and read groups its requests by this key: the last queue's
        // is kept, so that a run of calls on one queue does not build the same string each.
        if (_lastSeqKey is { } last && string.Equals(last.Queue, queue, StringComparison.Ordinal))
        {
            return last.Key;
        }

        var key = new QueueKey(queue, $"{_prefix}:{{{queue}}}:seq");
        _lastSeqKey = key;
        return key.Key;
    }

    private static IReadOnlyList<string> Checked(IReadOnlyList<string> queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        foreach (var queue in queues)
        {
            CheckQueue(queue);
        }

        return queues;
    }

    /// <summary>The queues of one call in order, split by hash slot on a Cluster (order of first appearance); one group on a single server.</summary>
    private List<List<string>> Groups(IReadOnlyList<string> queues)
    {
        var distinct = queues.Distinct(StringComparer.Ordinal).ToList();
        if (!IsCluster)
        {
            return [distinct];
        }

        var groups = new List<List<string>>();
        var bySlot = new Dictionary<int, List<string>>();
        foreach (var queue in distinct)
        {
            var slot = _connection.GetHashSlot(SeqKey(queue));
            if (!bySlot.TryGetValue(slot, out var group))
            {
                bySlot[slot] = group = [];
                groups.Add(group);
            }

            group.Add(queue);
        }

        return groups;
    }

    private bool IsCluster => (Servers & 2) != 0;

    // Whether one server's PUBSUB NUMSUB counts every subscriber of a channel: a single server
    // with no replica this connection sees (a subscription may sit on a replica, or on another
    // node of a Cluster).
    private bool CountsSubscribers => Servers == 1;

    private int Servers
    {
        get
        {
            var known = Volatile.Read(ref _servers);
            if (known != 0)
            {
                return known;
            }

            // A server's type and role are known once it has connected: kept only when every
            // server was connected before its type and role were read.
            var connected = true;
            var servers = 1;
            foreach (var endpoint in _connection.GetEndPoints())
            {
                var server = _connection.GetServer(endpoint);
                connected &= server.IsConnected;
                if (server.ServerType == ServerType.Cluster)
                {
                    servers |= 2;
                }

                if (server.IsReplica)
                {
                    servers |= 4;
                }
            }

            if (connected)
            {
                Volatile.Write(ref _servers, servers);
            }

            return servers;
        }
    }

    /// <summary>The distinct queues of a batch group as script keys, and each entry's 1-based index among them.</summary>
    private (RedisKey[] Keys, int[] Index) QueuesOf(List<int> group, Func<int, string> queueAt)
    {
        var keys = new List<RedisKey>(1);
        var seen = new Dictionary<string, int>(1, StringComparer.Ordinal);
        var index = new int[group.Count];
        for (var g = 0; g < group.Count; g++)
        {
            var queue = queueAt(group[g]);
            if (!seen.TryGetValue(queue, out var at))
            {
                keys.Add(SeqKey(queue));
                seen[queue] = at = keys.Count;
            }

            index[g] = at;
        }

        return ([.. keys], index);
    }

    /// <summary>The arguments every store script starts with (Scripts/shared.lua).</summary>
    private List<RedisValue> Args(DateTimeOffset now, int extra)
        => new(7 + extra)
        {
            now.ToUnixTimeMilliseconds(),
            _ttlMs,
            _options.DeadLetterLimit,
            _options.FinalIndexLimit,
            _wakeChannel.ToString(),
            _doneChannel.ToString(),
            _cancelChannel.ToString(),
        };

    /// <summary>Runs a store script; Redis errors become <see cref="TransportException"/> (unreachable) or <see cref="InvalidDataException"/> (refused).</summary>
    private async Task<RedisResult> RunAsync(RedisScript script, RedisKey[] keys, List<RedisValue> args)
    {
        try
        {
            return await script.RunAsync(_db, keys, args).ConfigureAwait(false);
        }
        catch (Exception ex) when (Transient.IsTransient(ex) && Troubled())
        {
            throw Transient.ToTransportException(ex);
        }
        catch (RedisServerException ex)
        {
            throw new InvalidDataException($"Redis refused the task store's {script.Name} script: {ex.Message}", ex);
        }
    }

    private static string NewEpoch()
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> epoch = stackalloc char[8];
        for (var i = 0; i < epoch.Length; i++)
        {
            epoch[i] = Digits[RandomNumberGenerator.GetInt32(Digits.Length)];
        }

        return new string(epoch);
    }

    /// <summary>A queue's sequence key, as <see cref="SeqKey"/> last made it.</summary>
    private sealed record QueueKey(string Queue, RedisKey Key);

    private readonly record struct EnqueueRequest(string Queue, TaskToEnqueue[] Tasks);

    private readonly record struct CompleteRequest(string Queue, string Own, long Fence, string Kind, ReadOnlyMemory<byte> Payload, long Due, byte[] Name);

    private readonly record struct ReadRequest(string Queue, string Own);

    /// <summary>The ids of one enqueue request, or why the script refused it (code 'w': a key of another type; 'c': a chosen id of the store's own form).</summary>
    private readonly record struct EnqueueAnswer(string[]? Stored, string? Problem, char Code)
    {
        public string[] Ids(string queue, string parameter) => Stored ?? throw (Code == 'c'
            ? new ArgumentException($"Nothing was stored: {Problem}.", parameter)
            : new InvalidDataException($"Nothing was stored in queue '{queue}': {Problem}."));
    }

    /// <summary>A settle's outcome (1 settled, 0 not this lease's, -1 refused) and, when refused, why.</summary>
    private readonly record struct CompleteAnswer(long Outcome, string Problem, List<Followup>? Followups);

    private readonly record struct ReadAnswer(byte[]? Record, long Due, bool Lost, string? Queue);
}

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Fetchers' wake-ups and the worker registry. A script that makes a queue's pending list
/// non-empty publishes the queue's name on the wake channel; every fetcher of this store that
/// serves the queue wakes. Workers publish themselves in P:workers (a sorted set by heartbeat
/// deadline) and P:worker:&lt;id&gt; (a hash that expires with the heartbeat). A task record
/// names its worker by a number (P:workers:names maps it to <c>host:pid</c>): the name itself
/// would push a small task's running record out of its bucket into a key of its own.
/// </summary>
public sealed partial class RedisTaskStore
{
    private readonly List<Fetcher> _fetchers = [];

    // Wake-ups heard (and reconnects), and per set of queues the count before its last look that
    // emptied them, and when that look started.
    private readonly ConcurrentDictionary<string, Drained> _drained = new(StringComparer.Ordinal);
    private long _wakes;
    private readonly ConcurrentDictionary<string, string> _workerNames = new(StringComparer.Ordinal);
    private Task<string>? _numbering;

    /// <summary>
    /// How long, at least, the registry keeps a number its worker no longer confirms (the store's
    /// result TTL when longer): past it, a record that still names the number reads as no worker.
    /// </summary>
    internal static readonly TimeSpan WorkerNumberKeep = TimeSpan.FromDays(30);

    /// <summary>This worker's number, registered on first use (again after a failed attempt).</summary>
    private Task<string> WorkerNumberAsync()
    {
        lock (_fetchers)
        {
            if (_numbering is null || _numbering.IsFaulted || _numbering.IsCanceled)
            {
                _numbering = RegisterAsync(string.Empty);
            }

            return _numbering;
        }
    }

    /// <summary>Gives this worker a number, or confirms <paramref name="held"/> (Scripts/register.lua).</summary>
    private async Task<string> RegisterAsync(string held)
    {
        var keep = Math.Max(_ttlMs, (long)WorkerNumberKeep.TotalMilliseconds);
        var number = (string)(await RunAsync(StoreScript.Register, [WorkerNamesKey, WorkerSeenKey],
            [held, Worker.WorkerIdentity.Name, _time.GetUtcNow().ToUnixTimeMilliseconds(), keep]).ConfigureAwait(false))!;
        _workerNames[number] = Worker.WorkerIdentity.Name;
        return number;
    }

    /// <summary>The heartbeat confirms the number, in case Redis lost it (restarted empty) or gave it to another worker.</summary>
    private async Task ConfirmNumberAsync()
    {
        Task<string>? numbering;
        lock (_fetchers)
        {
            numbering = _numbering;
        }

        if (numbering is not { IsCompletedSuccessfully: true })
        {
            return;
        }

        var held = numbering.Result;
        var number = await RegisterAsync(held).ConfigureAwait(false);
        if (number != held)
        {
            lock (_fetchers)
            {
                _numbering = Task.FromResult(number);
            }
        }
    }

    /// <summary>The name of the worker a record keeps: a number is looked up (cached), an older record's name is taken as it is.</summary>
    private string? WorkerName(string? stored)
        => stored is null ? null : !IsWorkerNumber(stored) ? stored : _workerNames.GetValueOrDefault(stored);

    private static bool IsWorkerNumber(string stored)
    {
        // A plain loop: IndexOfAnyExceptInRange boxes each char in a process's unoptimised
        // (tier-0) code, and this runs for every done frame a producer hears.
        if (stored.Length is 0 or > 19)
        {
            return false;
        }

        foreach (var c in stored)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Looks up, in one call, the workers of <paramref name="stored"/> this store has not seen yet; a number Redis no longer has reads as no worker.</summary>
    private async ValueTask LearnWorkersAsync(IEnumerable<string?> stored)
    {
        List<RedisValue>? unknown = null;
        foreach (var worker in stored)
        {
            if (worker is not null && IsWorkerNumber(worker) && !_workerNames.ContainsKey(worker) && !(unknown?.Contains(worker) ?? false))
            {
                (unknown ??= []).Add(worker);
            }
        }

        if (unknown is null)
        {
            return;
        }

        var names = await Transient.Run(_db.HashGetAsync(WorkerNamesKey, [.. unknown])).ConfigureAwait(false);
        for (var i = 0; i < unknown.Count; i++)
        {
            if (!names[i].IsNull)
            {
                _workerNames[(string)unknown[i]!] = (string)names[i]!;
            }
        }
    }

    /// <summary>A record as callers see it, its worker's name looked up.</summary>
    private async ValueTask<TaskInfo> InfoAsync(string id, string queue, StoreRecord record)
    {
        await LearnWorkersAsync([record.Worker]).ConfigureAwait(false);
        return record.ToInfo(id, queue, WorkerName(record.Worker));
    }

    /// <summary>
    /// True when the <paramref name="queues"/> queues of <paramref name="key"/> were emptied by their
    /// last look, no wake-up (nor broken connection, nor failed call) came since, that look is
    /// younger than the safety interval for that many queues, and Redis is connected, the wake channel's subscription too: a look would find
    /// nothing that was announced.
    /// </summary>
    private bool Quiet(string key, int queues)
        => _connection.IsConnected
            && _connection.GetSubscriber().IsConnected(_wakeChannel)
            && _connection.GetSubscriber().IsConnected(_handChannel)
            && _drained.TryGetValue(key, out var drained)
            && drained.Wakes == Interlocked.Read(ref _wakes)
            && _time.GetUtcNow() - drained.At < SafetyLookEvery(queues);

    /// <summary>
    /// How many queues a worker's safety looks cover at the full <see cref="RedisTransportOptions.SafetyLookInterval"/>.
    /// A worker of more queues looks at them less often, in proportion, so that what its safety
    /// looks cost does not grow with the number of its queues.
    /// </summary>
    internal const int SafetyLookQueues = 10;

    /// <summary>How long a look at <paramref name="queues"/> idle queues stands before the safety look comes: the interval, longer past <see cref="SafetyLookQueues"/> queues.</summary>
    private TimeSpan SafetyLookEvery(int queues)
        => queues <= SafetyLookQueues ? _options.SafetyLookInterval : _options.SafetyLookInterval * (queues / (double)SafetyLookQueues);

    /// <summary>
    /// A call met Redis unreachable: the next idle fetch looks (and fails, which the worker's
    /// health check reports) rather than trust that nothing changed. Always true (an exception filter).
    /// </summary>
    private bool Troubled()
    {
        Interlocked.Increment(ref _wakes);
        return true;
    }

    /// <summary>
    /// A connection broke: each idle fetcher looks when its wait ends (not at once: the worker
    /// meets the outage at the pace it did when idle fetches always looked), so that the worker
    /// learns it. And done frames may be lost: waits on the tasks the store watched read again.
    /// </summary>
    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        Troubled();
        ForgetWatches();
    }

    private void OnWake(RedisValue message)
    {
        var queue = (string?)message;
        if (queue == ScheduleChangeMessage)
        {
            SchedulesChanged();
            return;
        }

        if (queue is not null && TryHearDue(queue))
        {
            return;
        }

        Interlocked.Increment(ref _wakes);
        lock (_fetchers)
        {
            foreach (var fetcher in _fetchers)
            {
                if (queue is not null && fetcher.Queues.Contains(queue))
                {
                    fetcher.Signal.Set();
                }
            }
        }
    }

    /// <summary>After a reconnect wake-ups may have been lost: every fetcher looks again.</summary>
    private void WakeAllFetchers()
    {
        Interlocked.Increment(ref _wakes);
        ForgetDueTimes();
        lock (_fetchers)
        {
            foreach (var fetcher in _fetchers)
            {
                fetcher.Signal.Set();
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask HeartbeatAsync(WorkerDescription worker, IReadOnlyCollection<TaskLease> held, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(held);
        try
        {
            await BeatAsync(worker, held).ConfigureAwait(false);
        }
        catch (TransportException) when (Troubled())
        {
            throw;
        }
    }

    private async Task BeatAsync(WorkerDescription worker, IReadOnlyCollection<TaskLease> held)
    {
        var now = _time.GetUtcNow();
        var deadline = now + LeaseDuration;
        var listedUntil = now + _options.WorkerTimeout;
        // The leases handed to this store and not yet fetched are renewed with the worker's.
        var kept = KeptLeases();
        if (kept.Count > 0)
        {
            held = [.. held, .. kept];
        }

        var leases = new List<(string Queue, string Own, long Fence)>(held.Count);
        foreach (var lease in held)
        {
            if (TaskIds.TrySplit(lease.Id, out var queue, out var own))
            {
                leases.Add((queue, own, lease.Fence));
            }
        }

        var id = Worker.WorkerIdentity.Name;
        var info = WorkerKey(id);
        var registry = Task.WhenAll(
            _db.HashSetAsync(info,
            [
                new HashEntry("host", Worker.WorkerIdentity.Host),
                new HashEntry("pid", Worker.WorkerIdentity.Pid),
                new HashEntry("queues", string.Join(",", worker.Queues)),
                new HashEntry("concurrency", worker.Concurrency),
                new HashEntry("tasks", worker.Tasks is null ? string.Empty : string.Join(' ', worker.Tasks)),
                new HashEntry("known", worker.Tasks is null ? 0 : 1),
                new HashEntry("running", JsonSerializer.Serialize(held.Except(kept).Select(l => l.Id).ToArray(), RunningJson.Default.StringArray)),
                new HashEntry("beat_ms", now.ToUnixTimeMilliseconds()),
            ]),
            _db.KeyExpireAsync(info, _options.WorkerTimeout),
            _db.SortedSetAddAsync(WorkersKey, id, listedUntil.ToUnixTimeMilliseconds()));

        string? refused = null;
        var renew = SlotGroups.RunAsync(_connection, leases.Count, i => SeqKey(leases[i].Queue), BatchLimit, group =>
        {
            var (keys, index) = QueuesOf(group, i => leases[i].Queue);
            var args = Args(now, 1 + (3 * group.Count));
            args.Add(deadline.ToUnixTimeMilliseconds());
            for (var g = 0; g < group.Count; g++)
            {
                args.Add(index[g]);
                args.Add(leases[group[g]].Own);
                args.Add(leases[group[g]].Fence);
            }

            return RunAsync(StoreScript.Renew, keys, args);
        },
        (_, result) =>
        {
            var problem = (string)((RedisResult[])result!)[1]!;
            if (problem.Length > 0)
            {
                refused ??= problem;
            }
        });
        var confirm = ConfirmNumberAsync();
        await Transient.Run(registry).ConfigureAwait(false);
        await renew.ConfigureAwait(false);

        // Only once the leases are renewed: when renewing fails, the entry ages and recovering
        // workers look at every queue once the leases may have expired.
        await HeldUntilAsync(held, now.ToUnixTimeMilliseconds(), deadline.ToUnixTimeMilliseconds()).ConfigureAwait(false);
        if (kept.Count > 0 && refused is null)
        {
            KeptRenewed(kept, deadline.ToUnixTimeMilliseconds());
        }
        await confirm.ConfigureAwait(false);
        if (refused is not null)
        {
            throw new InvalidDataException($"Some leases were not renewed (the others were): {refused}.");
        }
    }

    /// <inheritdoc/>
    public async ValueTask LeaveAsync(CancellationToken cancellationToken = default)
    {
        await StopFetchingAsync(null).ConfigureAwait(false);
        var id = Worker.WorkerIdentity.Name;
        var calls = new List<Task> { _db.KeyDeleteAsync(WorkerKey(id)), _db.SortedSetRemoveAsync(WorkersKey, id) };
        if (_issued.IsEmpty)
        {
            // Every lease it was given is settled: no worker needs to look for them once it is gone.
            // (With leases left, the entry stays and ages, and they are recovered once expired.)
            calls.Add(_db.SortedSetRemoveAsync(HoldersKey, HolderName));
        }

        await Transient.Run(Task.WhenAll(calls)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<LiveWorker>> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var ids = await Transient.Run(_db.SortedSetRangeByScoreAsync(WorkersKey, now, double.PositiveInfinity)).ConfigureAwait(false);
        _ = _db.SortedSetRemoveRangeByScoreAsync(WorkersKey, double.NegativeInfinity, now, Exclude.Stop, CommandFlags.FireAndForget);
        var reads = ids.Select(id => _db.HashGetAllAsync(WorkerKey(id!))).ToArray();
        await Transient.Run(Task.WhenAll(reads)).ConfigureAwait(false);
        var workers = new List<LiveWorker>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            var fields = reads[i].Result.ToDictionary(e => (string)e.Name!, e => e.Value);
            if (fields.Count == 0)
            {
                continue; // expired between the two reads
            }

            string Text(string name) => fields.TryGetValue(name, out var v) ? (string?)v ?? string.Empty : string.Empty;
            long Number(string name) => fields.TryGetValue(name, out var v) && v.TryParse(out long n) ? n : 0;
            var tasks = Text("tasks");
            var running = Text("running");
            workers.Add(new LiveWorker(
                ids[i]!,
                Text("host"),
                (int)Number("pid"),
                Text("queues").Split(',', StringSplitOptions.RemoveEmptyEntries),
                Number("known") == 1 ? tasks.Split(' ', StringSplitOptions.RemoveEmptyEntries) : null)
            {
                Concurrency = (int)Number("concurrency"),
                Running = ReadRunning(running),
                LastSeen = DateTimeOffset.FromUnixTimeMilliseconds(Number("beat_ms")),
            });
        }

        return workers;
    }

    /// <summary>
    /// The ids a worker holds, as its hash keeps them: a JSON array of strings (a chosen id may
    /// hold any character, a separator included). Unreadable text reads as none.
    /// </summary>
    private static string[] ReadRunning(string running)
    {
        if (running.Length == 0)
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize(running, RunningJson.Default.StringArray) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private RedisKey WorkersKey => $"{_prefix}:workers";

    private RedisKey WorkerNamesKey => $"{_prefix}:workers:names";

    // When each worker number was last confirmed; its hash tag is the registry's name, so that
    // register.lua's two keys share a slot (a prefix holds no braces).
    private RedisKey WorkerSeenKey => $"{_prefix}:workers:seen:{{{_prefix}:workers:names}}";

    private RedisKey WorkerKey(string id) => $"{_prefix}:worker:{id}";

    /// <summary>A look that emptied its queues: the wake-ups counted before it, and when it started.</summary>
    private readonly record struct Drained(long Wakes, DateTimeOffset At);

    /// <summary>A waiting fetch: its queues and the signal a wake-up sets.</summary>
    private sealed class Fetcher(IReadOnlyList<string> queues)
    {
        public HashSet<string> Queues { get; } = new(queues, StringComparer.Ordinal);

        public AsyncSignal Signal { get; } = new();
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Transport;
using TypedTasks.Worker;

namespace TypedTasks.InMemory;

/// <summary>
/// A task store inside the process: for the quickstart, for an application that runs its workers
/// in the process that enqueues, and for users' own tests. It follows the same rules as the Redis
/// store (one conformance suite checks both) and keeps nothing across a restart.
/// </summary>
/// <remarks>
/// One lock guards everything; every operation under it is O(1) or O(log n) per task it touches,
/// and O(page) for lists. Fetches and waits park on a completion source that the event they wait
/// for completes once, however many are parked on it.
/// </remarks>
public sealed partial class InMemoryTaskStore : ITaskStore, IScheduleStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, TaskRecord> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueIndexes> _queues = new(StringComparer.Ordinal);

    // Final records in the order they became final; since the TTL is one value, also in expiry order.
    private readonly Queue<(TaskRecord Record, DateTimeOffset ExpiresAt)> _expiries = new();

    // Unique locks by queue and key: the task that holds one, and when it lapses at the latest.
    private readonly Dictionary<(string Queue, string Key), (TaskRecord Owner, DateTimeOffset Until)> _uniqueLocks = [];
    private int _uniqueSweepAt = 1024;
    private readonly TimeProvider _time;
    private readonly Metrics.MetricsTable _metrics;
    private readonly TimeSpan _resultTtl;
    private readonly InMemoryTaskStoreOptions _options;
    private Action<string>[] _watchers = [];
    private LiveWorker? _worker;
    private long _nextId;
    private long _nextSequence;
    private bool _disposed;

    /// <summary>Creates an empty store.</summary>
    /// <param name="resultTtl">How long a final record is kept after it became final; one day (<see cref="TaskDefaults.ResultTtl"/>) when null.</param>
    /// <param name="timeProvider">The clock for due times, leases and TTLs; the system clock when null.</param>
    /// <param name="options">Lease and index settings; the defaults when null.</param>
    public InMemoryTaskStore(TimeSpan? resultTtl = null, TimeProvider? timeProvider = null, InMemoryTaskStoreOptions? options = null)
    {
        _resultTtl = resultTtl ?? TaskDefaults.ResultTtl;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_resultTtl, TimeSpan.Zero, nameof(resultTtl));
        _time = timeProvider ?? TimeProvider.System;
        _metrics = new Metrics.MetricsTable(_time);
        _options = options ?? new InMemoryTaskStoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.LeaseDuration, TimeSpan.Zero, "options.LeaseDuration");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.IdleFetchInterval, TimeSpan.Zero, "options.IdleFetchInterval");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.WorkerTimeout, TimeSpan.Zero, "options.WorkerTimeout");
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.RecentIndexSize, 1, "options.RecentIndexSize");
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.FailedIndexSize, 1, "options.FailedIndexSize");
    }

    /// <inheritdoc/>
    public TimeSpan HeartbeatInterval => _options.LeaseDuration / 3;

    // ---- Producer ----

    /// <inheritdoc/>
    public ValueTask<string> EnqueueAsync(string queue, TaskToEnqueue task, CancellationToken cancellationToken = default)
    {
        Check(queue, task);
        cancellationToken.ThrowIfCancellationRequested();
        var woken = new List<TaskCompletionSource>(1);
        string id;
        lock (_gate)
        {
            var now = BeginLocked();
            id = AddLocked(queue, task, now, woken);
        }

        Wake(woken);
        return new(id);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<string>> EnqueueManyAsync(string queue, IReadOnlyList<TaskToEnqueue> tasks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        QueueName.Check(queue);

        // Every task is checked before any is stored: a batch is stored whole or not at all.
        for (var i = 0; i < tasks.Count; i++)
        {
            Check(queue, tasks[i], i);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var ids = new string[tasks.Count];
        var woken = new List<TaskCompletionSource>(1);
        lock (_gate)
        {
            var now = BeginLocked();
            for (var i = 0; i < tasks.Count; i++)
            {
                ids[i] = AddLocked(queue, tasks[i], now, woken);
            }
        }

        Wake(woken);
        return new(ids);
    }

    // ---- Readers ----

    /// <inheritdoc/>
    public ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            var now = BeginLocked();
            return new(_records.TryGetValue(id, out var record) ? record.Info() : WaitingStepLocked(id, now)?.Info);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive, zero or Timeout.InfiniteTimeSpan.");
        }

        var started = _time.GetTimestamp();
        while (true)
        {
            Task done;
            lock (_gate)
            {
                BeginLocked();
                if (!_records.TryGetValue(id, out var record))
                {
                    // A workflow step not made yet: wait until its join makes it.
                    done = (WaitingStepLocked(id, _time.GetUtcNow()) ?? throw new TaskNotFoundException(id, lost: false)).Made;
                }
                else if (record.State.IsFinal())
                {
                    // A task canceled while it runs is final already: its waiters need not wait for its worker.
                    return record.Info();
                }
                else
                {
                    record.Done ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    done = record.Done.Task;
                }
            }

            var remaining = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - _time.GetElapsedTime(started);
            if (timeout != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
            {
                throw WaitTimedOut(id, timeout);
            }

            try
            {
                await done.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw WaitTimedOut(id, timeout);
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        Action<string>[] tell;
        var woken = new List<TaskCompletionSource>(1);
        lock (_gate)
        {
            var now = BeginLocked();
            if (!_records.ContainsKey(id) && CancelWaitingStepLocked(id, now, woken))
            {
                tell = [];
                goto Canceled;
            }

            if (!_records.TryGetValue(id, out var record) || record.State.IsFinal())
            {
                return new(false);
            }

            if (record.Leased)
            {
                // The run goes on until its worker hears of it; the lease stays, and with it the
                // entry in the started index, until the worker settles it.
                record.State = TaskState.Canceled;
                record.UpdatedAt = now;
                CompleteDoneLocked(record);
                EndedLocked(record, now, woken);
                tell = _watchers;
            }
            else
            {
                CancelWaitingLocked(record, now, woken);
                tell = [];
            }
        }

    Canceled:
        Wake(woken);
        foreach (var watcher in tell)
        {
            watcher(id);
        }

        return new(true);
    }

    // ---- Worker ----

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        if (queues.Count == 0)
        {
            throw new ArgumentException("A fetch needs at least one queue to take tasks from.", nameof(queues));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var started = _time.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task wake;
            lock (_gate)
            {
                var now = BeginLocked();
                var leases = TakeLocked(queues, max, now);
                if (leases.Count > 0)
                {
                    return leases;
                }

                wake = PendingSignalLocked(queues);
            }

            var remaining = _options.IdleFetchInterval - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return [];
            }

            try
            {
                await wake.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return [];
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> CompleteAsync(TaskLease lease, TaskCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var woken = new List<TaskCompletionSource>(1);
        lock (_gate)
        {
            var now = BeginLocked();
            if (!_records.TryGetValue(lease.Id, out var record) || !record.Leased || record.Fence != lease.Fence)
            {
                return new(false);
            }

            record.Queue.Started.Remove(record);
            record.Leased = false;
            EndRunLocked(record, woken);
            if (record.State.IsFinal())
            {
                // Canceled while it ran: the first final state stays; only the lease goes.
                IndexFinalLocked(record, now);
                Wake(woken);
                return new(true);
            }

            record.UpdatedAt = now;
            switch (completion.Kind)
            {
                case TaskCompletionKind.Succeeded:
                    record.State = TaskState.Succeeded;
                    record.Result = completion.Result.ToArray();
                    record.Envelope = ReadOnlyMemory<byte>.Empty;
                    record.Error = null;
                    IndexFinalLocked(record, now);
                    EndedLocked(record, now, woken);
                    break;
                case TaskCompletionKind.Failed:
                    record.State = TaskState.Failed;
                    record.Error = completion.Error;
                    IndexFinalLocked(record, now);
                    EndedLocked(record, now, woken);
                    break;
                case TaskCompletionKind.Retry:
                    record.State = TaskState.Retrying;
                    record.Error = completion.Error;
                    record.Due = completion.RetryAt ?? now;
                    record.Queue.Retrying.Add(record);
                    break;
                case TaskCompletionKind.Expired:
                    record.State = TaskState.Expired;
                    IndexFinalLocked(record, now);
                    EndedLocked(record, now, woken);
                    break;
                case TaskCompletionKind.Canceled:
                    record.State = TaskState.Canceled;
                    IndexFinalLocked(record, now);
                    EndedLocked(record, now, woken);
                    break;
                case TaskCompletionKind.Released:
                    record.State = TaskState.Pending;
                    record.Attempt--;
                    PushPendingLocked(record, atHead: true, woken);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(completion), completion.Kind, "Unknown completion kind.");
            }
        }

        Wake(woken);
        return new(true);
    }

    /// <inheritdoc/>
    public ValueTask HeartbeatAsync(WorkerDescription worker, IReadOnlyCollection<TaskLease> held, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(held);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = BeginLocked();
            var deadline = now + _options.LeaseDuration;
            foreach (var lease in held)
            {
                if (_records.TryGetValue(lease.Id, out var record) && record.Leased && record.Fence == lease.Fence)
                {
                    var started = record.Queue.Started;
                    started.Remove(record);
                    record.Due = deadline;
                    started.Add(record);
                }
            }

            _worker = new LiveWorker(WorkerIdentity.Name, WorkerIdentity.Host, WorkerIdentity.Pid, [.. worker.Queues], worker.Tasks is null ? null : [.. worker.Tasks])
            {
                Concurrency = worker.Concurrency,
                Running = [.. held.Select(l => l.Id)],
                LastSeen = now,
            };
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask LeaveAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _worker = null;
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask<int> RecoverAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queues);
        cancellationToken.ThrowIfCancellationRequested();
        var woken = new List<TaskCompletionSource>(1);
        var recovered = 0;
        lock (_gate)
        {
            var now = BeginLocked();
            var expired = new List<TaskRecord>();
            foreach (var name in queues)
            {
                if (!_queues.TryGetValue(name, out var queue))
                {
                    continue;
                }

                expired.Clear();
                while (queue.Started.Count > 0 && queue.Started.Min!.Due < now)
                {
                    var record = queue.Started.Min;
                    queue.Started.Remove(record);
                    record.Leased = false;
                    EndRunLocked(record, woken);
                    expired.Add(record);
                }

                // Pushed to the head in reverse, so that the one fetched first runs first again.
                for (var i = expired.Count - 1; i >= 0; i--)
                {
                    var record = expired[i];
                    if (record.State.IsFinal())
                    {
                        // Canceled while its worker was lost: nothing to run again.
                        IndexFinalLocked(record, now);
                        continue;
                    }

                    record.State = TaskState.Pending;
                    record.Attempt--;
                    record.UpdatedAt = now;
                    PushPendingLocked(record, atHead: true, woken);
                    recovered++;
                }
            }
        }

        Wake(woken);
        return new(recovered);
    }

    /// <inheritdoc/>
    public ValueTask<DateTimeOffset?> PromoteDueAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queues);
        cancellationToken.ThrowIfCancellationRequested();
        var woken = new List<TaskCompletionSource>(1);
        DateTimeOffset? next = null;
        lock (_gate)
        {
            var now = BeginLocked();
            foreach (var name in queues)
            {
                if (!_queues.TryGetValue(name, out var queue))
                {
                    continue;
                }

                // Both indexes are merged by due time, so that pending gets them in the order they fell due.
                while (true)
                {
                    var scheduled = queue.Scheduled.Count > 0 ? queue.Scheduled.Min : null;
                    var retrying = queue.Retrying.Count > 0 ? queue.Retrying.Min : null;
                    var first = scheduled is null ? retrying
                        : retrying is null ? scheduled
                        : DueOrder.Instance.Compare(scheduled, retrying) <= 0 ? scheduled : retrying;
                    if (first is null)
                    {
                        break;
                    }

                    if (first.Due > now)
                    {
                        next = next is null || first.Due < next ? first.Due : next;
                        break;
                    }

                    (first.State == TaskState.Scheduled ? queue.Scheduled : queue.Retrying).Remove(first);
                    first.State = TaskState.Pending;
                    first.UpdatedAt = now;
                    PushPendingLocked(first, atHead: false, woken);
                }

                if (PromoteLimitsLocked(queue, now, woken) is { } limitDue && (next is null || limitDue < next))
                {
                    next = limitDue;
                }
            }
        }

        Wake(woken);
        return new(next);
    }

    /// <inheritdoc/>
    /// <remarks><paramref name="onCanceled"/> runs on the thread that cancels, after the cancellation is stored; it must be quick and must not throw.</remarks>
    public ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onCanceled);
        lock (_gate)
        {
            _watchers = [.. _watchers, onCanceled];
        }

        return new(new Watch(this, onCanceled));
    }

    // ---- Tools ----

    /// <inheritdoc/>
    public ValueTask PingAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LiveWorker>> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return new(LiveWorkerLocked(BeginLocked()) is { } worker ? [worker] : []);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<string>> GetQueuesAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var now = BeginLocked();
            var names = new SortedSet<string>(_queues.Values.Where(q => q.Enqueued).Select(q => q.Name), StringComparer.Ordinal);
            if (LiveWorkerLocked(now) is { } worker)
            {
                names.UnionWith(worker.Queues);
            }

            return new(names.ToList());
        }
    }

    /// <inheritdoc/>
    public ValueTask<StateCounts> CountAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        lock (_gate)
        {
            BeginLocked();
            if (!_queues.TryGetValue(queue, out var q))
            {
                return new(new StateCounts(0, 0, 0, 0, 0, 0, 0, 0));
            }

            return new(new StateCounts(
                q.PendingCount + q.HeldCount, q.Scheduled.Count, q.Started.Count, q.Retrying.Count,
                q.Succeeded.Count, q.Failed.Count, q.Canceled.Count, q.Expired.Count)
            {
                Held = q.HeldCount,
            });
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Pending lists the tasks a limit holds back too (they are Pending), after the ones that can
    /// start: by limit key, then each limit's in the order it lets them go.
    /// </remarks>
    public ValueTask<IReadOnlyList<StoredTask>> ListAsync(string queue, TaskState state, long offset, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            BeginLocked();
            if (count == 0 || !_queues.TryGetValue(queue, out var q))
            {
                return new(Array.Empty<StoredTask>());
            }

            IEnumerable<TaskRecord> index = state switch
            {
                TaskState.Pending => Enumerable.Range(0, q.Pending.Length).SelectMany(i => q.Pending[q.Pending.Length - 1 - i]).Concat(q.HeldCount > 0 ? HeldOf(q) : []),
                TaskState.Scheduled => q.Scheduled,
                TaskState.Started => q.Started,
                TaskState.Retrying => q.Retrying,
                TaskState.Succeeded => q.Succeeded,
                TaskState.Failed => q.Failed,
                TaskState.Canceled => q.Canceled,
                TaskState.Expired => q.Expired,
                _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown task state."),
            };
            IReadOnlyList<StoredTask> page = [.. index.Skip(offset > int.MaxValue ? int.MaxValue : (int)offset).Take(count).Select(r => r.Stored())];
            return new(page);
        }
    }

    /// <inheritdoc/>
    public ValueTask<StoredTask?> GetStoredAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            BeginLocked();
            return new(_records.TryGetValue(id, out var record) ? record.Stored() : null);
        }
    }

    /// <inheritdoc/>
    public ValueTask<int> RequeueAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var woken = new List<TaskCompletionSource>(1);
        var moved = 0;
        lock (_gate)
        {
            var now = BeginLocked();
            foreach (var id in ids)
            {
                if (!_records.TryGetValue(id, out var record) || record.Leased || record.Envelope.IsEmpty
                    || record.State is TaskState.Pending or TaskState.Started or TaskState.Succeeded)
                {
                    continue;
                }

                UnindexLocked(record);
                record.State = TaskState.Pending;
                record.Attempt = 0;
                record.Error = null;
                record.Worker = null;
                record.UpdatedAt = now;
                PushPendingLocked(record, atHead: false, woken);
                moved++;
            }
        }

        Wake(woken);
        return new(moved);
    }

    /// <inheritdoc/>
    public ValueTask<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var deleted = 0;
        var woken = new List<TaskCompletionSource>();
        lock (_gate)
        {
            var now = BeginLocked();
            foreach (var id in ids)
            {
                if (_records.TryGetValue(id, out var record) && !record.Leased)
                {
                    ForgetLocked(record, now, woken);
                    deleted++;
                }
            }
        }

        Wake(woken);
        return new(deleted);
    }

    /// <inheritdoc/>
    /// <remarks>Oldest first within the order the tasks would run: the highest priority first.</remarks>
    public ValueTask<int> PurgeAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        cancellationToken.ThrowIfCancellationRequested();
        var purged = 0;
        var woken = new List<TaskCompletionSource>();
        lock (_gate)
        {
            var now = BeginLocked();
            if (!_queues.TryGetValue(queue, out var q))
            {
                return new(0);
            }

            // Chosen first, then deleted: a workflow member's cancel may end others of the page.
            var page = new List<TaskRecord>();
            for (var priority = q.Pending.Length - 1; priority >= 0 && page.Count < max; priority--)
            {
                page.AddRange(q.Pending[priority].Take(max - page.Count));
            }

            // Held tasks are pending too: they go after the ones that could start.
            page.AddRange(q.HeldCount > 0 && page.Count < max ? HeldOf(q).Take(max - page.Count) : []);
            foreach (var record in page)
            {
                ForgetLocked(record, now, woken);
                purged++;
            }
        }

        Wake(woken);

        return new(purged);
    }

    /// <summary>Ends the store: waiting fetches and waits, and every later call, throw <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync()
    {
        var woken = new List<TaskCompletionSource>();
        lock (_gate)
        {
            if (_disposed)
            {
                return default;
            }

            _disposed = true;
            foreach (var queue in _queues.Values)
            {
                if (queue.Signal is { } signal)
                {
                    woken.Add(signal);
                    queue.Signal = null;
                }
            }

            foreach (var record in _records.Values)
            {
                if (record.Done is { } done)
                {
                    woken.Add(done);
                    record.Done = null;
                }
            }
        }

        Wake(woken);
        return default;
    }

    // ---- Inside the lock ----

    // Every operation starts here: it refuses a disposed store and drops the final records whose TTL ended.
    private DateTimeOffset BeginLocked()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var now = _time.GetUtcNow();
        while (_expiries.TryPeek(out var entry) && entry.ExpiresAt <= now)
        {
            _expiries.Dequeue();
            var record = entry.Record;

            // A record requeued, deleted or final again since has another expiry, or none.
            if (record.ExpiresAt == entry.ExpiresAt && _records.TryGetValue(record.Id, out var current) && ReferenceEquals(current, record))
            {
                RemoveLocked(record);
            }
        }

        DropEndedJoinsLocked(now);
        return now;
    }

    private string AddLocked(string queueName, TaskToEnqueue task, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        string id;
        if (task.ChosenId is { } chosen)
        {
            id = chosen + "@" + queueName;
            if (_records.ContainsKey(id))
            {
                return id;
            }
        }
        else
        {
            // A chosen id may look like a made one: skip any already taken.
            do
            {
                id = (++_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture) + "@" + queueName;
            }
            while (_records.ContainsKey(id));
        }

        // A lock whose owner is gone, final or past its bound is taken over.
        (string, string) lockKey = default;
        if (task.UniqueKey is { } key)
        {
            lockKey = (queueName, key);
            if (_uniqueLocks.TryGetValue(lockKey, out var held) && held.Until > now
                && _records.TryGetValue(held.Owner.Id, out var owner) && ReferenceEquals(owner, held.Owner) && !owner.State.IsFinal())
            {
                return owner.Id;
            }
        }

        var queue = QueueLocked(queueName);
        queue.Enqueued = true;
        var envelope = task.Envelope.ToArray();
        var record = new TaskRecord(id, queue, ++_nextSequence, task.Priority, TaskEnvelope.TryReadTaskName(envelope) ?? "?")
        {
            Envelope = envelope,
            UpdatedAt = now,
            Link = task.Link,
            Limits = task.Limits is { Count: > 0 } limits ? [.. limits] : null,
        };
        _records.Add(id, record);
        if (task.UniqueKey is not null)
        {
            var span = task.UniqueFor!.Value;
            _uniqueLocks[lockKey] = (record, span < DateTimeOffset.MaxValue - now ? now + span : DateTimeOffset.MaxValue);
            if (_uniqueLocks.Count >= _uniqueSweepAt)
            {
                // Lapsed locks go in one sweep whenever the table doubled, so it stays bounded by the live ones.
                foreach (var lapsed in _uniqueLocks.Where(l => l.Value.Until <= now).Select(l => l.Key).ToList())
                {
                    _uniqueLocks.Remove(lapsed);
                }

                _uniqueSweepAt = Math.Max(1024, _uniqueLocks.Count * 2);
            }
        }

        if (task.DueAt is { } due && due > now)
        {
            record.State = TaskState.Scheduled;
            record.Due = due;
            queue.Scheduled.Add(record);
        }
        else
        {
            record.State = TaskState.Pending;
            PushPendingLocked(record, atHead: false, woken);
        }

        return id;
    }

    private List<TaskLease> TakeLocked(IReadOnlyList<string> queues, int max, DateTimeOffset now)
    {
        var leases = new List<TaskLease>();
        var deadline = now + _options.LeaseDuration;
        foreach (var name in queues)
        {
            if (!_queues.TryGetValue(name, out var queue))
            {
                continue;
            }

            for (var priority = queue.Pending.Length - 1; priority >= 0 && leases.Count < max; priority--)
            {
                var list = queue.Pending[priority];
                while (list.First is { } node && leases.Count < max)
                {
                    var record = node.Value;
                    list.RemoveFirst();
                    record.Node = null;
                    queue.PendingCount--;
                    if (record.State != TaskState.Pending)
                    {
                        // Never expected: a pending entry of a task that is no longer pending is dropped, not run.
                        continue;
                    }

                    if (!AdmitLocked(record, now))
                    {
                        // Held by a limit: the fetch goes on to the tasks behind it.
                        continue;
                    }

                    record.State = TaskState.Started;
                    record.Attempt++;
                    record.Fence++;
                    record.Worker = WorkerIdentity.Name;
                    record.UpdatedAt = now;
                    record.Due = deadline;
                    record.Leased = true;
                    queue.Started.Add(record);
                    leases.Add(new TaskLease(record.Id, name, record.Attempt, record.Envelope, record.Priority, record.Fence));
                }
            }

            if (leases.Count >= max)
            {
                break;
            }
        }

        return leases;
    }

    // The completion sources that a pending task in one of these queues completes; one per queue, shared by every fetch waiting there.
    private Task PendingSignalLocked(IReadOnlyList<string> queues)
    {
        if (queues.Count == 1)
        {
            return SignalOf(QueueLocked(queues[0]));
        }

        var signals = new Task[queues.Count];
        for (var i = 0; i < queues.Count; i++)
        {
            signals[i] = SignalOf(QueueLocked(queues[i]));
        }

        return Task.WhenAny(signals);

        static Task SignalOf(QueueIndexes queue)
            => (queue.Signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
    }

    private void PushPendingLocked(TaskRecord record, bool atHead, List<TaskCompletionSource> woken)
    {
        var queue = record.Queue;
        var list = queue.Pending[record.Priority];
        record.Node = atHead ? list.AddFirst(record) : list.AddLast(record);
        queue.PendingCount++;
        if (queue.Signal is { } signal)
        {
            woken.Add(signal);
            queue.Signal = null;
        }
    }

    private void IndexFinalLocked(TaskRecord record, DateTimeOffset now)
    {
        var queue = record.Queue;
        var (index, cap) = record.State switch
        {
            TaskState.Succeeded => (queue.Succeeded, _options.RecentIndexSize),
            TaskState.Failed => (queue.Failed, _options.FailedIndexSize),
            TaskState.Canceled => (queue.Canceled, _options.RecentIndexSize),
            _ => (queue.Expired, _options.RecentIndexSize),
        };
        record.Node = index.AddFirst(record);
        if (index.Count > cap)
        {
            // The oldest leaves the index; its record stays readable until its TTL ends.
            index.Last!.Value.Node = null;
            index.RemoveLast();
        }

        record.ExpiresAt = now + _resultTtl;
        _expiries.Enqueue((record, record.ExpiresAt.Value));
        CompleteDoneLocked(record);
    }

    // Takes a record out of the index of its state (not the started index: a lease is dropped by its own step).
    private static void UnindexLocked(TaskRecord record)
    {
        var queue = record.Queue;
        switch (record.State)
        {
            case TaskState.Scheduled:
                queue.Scheduled.Remove(record);
                break;
            case TaskState.Retrying:
                queue.Retrying.Remove(record);
                break;
            case TaskState.Pending when record.HeldBy is not null:
                UnholdLocked(record);
                break;
            case TaskState.Pending when record.Node is not null:
                record.Node.List!.Remove(record.Node);
                record.Node = null;
                queue.PendingCount--;
                break;
            default:
                if (record.Node is not null)
                {
                    record.Node.List!.Remove(record.Node);
                    record.Node = null;
                }

                break;
        }

        record.ExpiresAt = null;
    }

    /// <summary>Ends a task that waits (not leased) Canceled: out of its index, into the canceled one, its join told.</summary>
    private void CancelWaitingLocked(TaskRecord record, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        UnindexLocked(record);
        record.State = TaskState.Canceled;
        record.UpdatedAt = now;
        IndexFinalLocked(record, now);
        EndedLocked(record, now, woken);
    }

    /// <summary>
    /// Removes a task a tool deletes or purges; a workflow member that had not ended counts as
    /// canceled for its join first, which would otherwise wait for it forever.
    /// </summary>
    private void ForgetLocked(TaskRecord record, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        if (record.Link is not null && !record.State.IsFinal())
        {
            CancelWaitingLocked(record, now, woken);
        }

        RemoveLocked(record);
    }

    private void RemoveLocked(TaskRecord record)
    {
        UnindexLocked(record);
        _records.Remove(record.Id);
        CompleteDoneLocked(record);
    }

    // Waiters of the record look again: they find it final, or gone.
    private static void CompleteDoneLocked(TaskRecord record)
    {
        if (record.Done is { } done)
        {
            record.Done = null;
            done.TrySetResult();
        }
    }

    private QueueIndexes QueueLocked(string name)
    {
        if (!_queues.TryGetValue(name, out var queue))
        {
            queue = new QueueIndexes(name);
            _queues.Add(name, queue);
        }

        return queue;
    }

    private LiveWorker? LiveWorkerLocked(DateTimeOffset now)
    {
        if (_worker is { } worker && now - worker.LastSeen >= _options.WorkerTimeout)
        {
            _worker = null;
        }

        return _worker;
    }

    // ---- Outside the lock ----

    // Continuations run asynchronously, so completing here never runs a woken fetch on this thread.
    private static void Wake(List<TaskCompletionSource> woken)
    {
        foreach (var signal in woken)
        {
            signal.TrySetResult();
        }
    }

    private static void Check(string queue, TaskToEnqueue task, int? index = null)
    {
        QueueName.Check(queue);
        var which = index is null ? "The task" : $"Task {index} of the batch";
        if (task.Priority is < 0 or > TaskDefaults.MaxPriority)
        {
            throw new ArgumentOutOfRangeException(nameof(task), task.Priority, $"{which} has priority {task.Priority}; a priority is 0 to {TaskDefaults.MaxPriority}. Nothing was stored.");
        }

        if (task.Envelope.IsEmpty)
        {
            throw new ArgumentException($"{which} has an empty envelope; a task needs its encoded envelope. Nothing was stored.", nameof(task));
        }

        if (task.ChosenId is { Length: 0 })
        {
            throw new ArgumentException($"{which} has an empty chosen id; leave it null to let the store make one. Nothing was stored.", nameof(task));
        }

        if (task.UniqueProblem is { } unique)
        {
            throw new ArgumentException($"{which} {unique}. Nothing was stored.", nameof(task));
        }

        if (task.LimitsProblem is { } limits)
        {
            throw new ArgumentException($"{which} {limits}. Nothing was stored.", nameof(task));
        }

        if (task.Link is not null && task.ChosenId is null)
        {
            throw new ArgumentException($"{which} has a workflow link but no chosen id; a workflow member needs one. Nothing was stored.", nameof(task));
        }
    }

    private static TimeoutException WaitTimedOut(string id, TimeSpan timeout)
        => new($"Task {id} did not end within {timeout}; it may still be waiting or running (read its state with GetAsync).");

    private sealed class Watch(InMemoryTaskStore store, Action<string> onCanceled) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (store._gate)
            {
                var index = Array.IndexOf(store._watchers, onCanceled);
                if (index >= 0)
                {
                    store._watchers = [.. store._watchers[..index], .. store._watchers[(index + 1)..]];
                }
            }

            return default;
        }
    }

    /// <inheritdoc/>
    public ValueTask RecordMetricsAsync(IReadOnlyList<Metrics.TaskMetrics> metrics, CancellationToken cancellationToken = default)
    {
        _metrics.Add(metrics);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<Metrics.TaskMetrics>> GetMetricsAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan resolution, CancellationToken cancellationToken = default)
        => new(_metrics.Get(from, to, resolution));

    /// <inheritdoc/>
    public ValueTask<bool> SetProgressAsync(TaskLease lease, ReadOnlyMemory<byte> progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        lock (_gate)
        {
            var now = BeginLocked();
            if (!_records.TryGetValue(lease.Id, out var record) || record.State != TaskState.Started || record.Fence != lease.Fence)
            {
                return new(false);
            }

            record.Progress = new StoredProgress(progress.ToArray(), record.Attempt, now);
            return new(true);
        }
    }

    /// <inheritdoc/>
    public ValueTask<StoredProgress?> GetProgressAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            BeginLocked();
            return new(_records.TryGetValue(id, out var record) ? record.Progress : null);
        }
    }
}

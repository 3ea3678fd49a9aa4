using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Transport;

namespace TypedTasks.Store;

/// <summary>
/// Where tasks live: each task's record (its envelope, state, attempt, result or error) under its
/// id, the per-state indexes of its queue, the leases of running tasks, and the registry of live
/// workers. Every transition of a task is one atomic operation of the store (on Redis, one script
/// on the queue's hash slot), and nothing is removed before the operation can no longer fail.
/// Implementations: <c>InMemory.InMemoryTaskStore</c> and the Redis store of TypedTasks.Redis;
/// both pass one conformance suite.
/// </summary>
/// <remarks>
/// Ids are made by the store and are opaque outside it: callers only pass them back. A task sent
/// with a chosen id (<see cref="TaskToEnqueue.ChosenId"/>) is enqueued at most once per queue.
/// </remarks>
public interface ITaskStore : IAsyncDisposable
{
    // ---- Producer ----

    /// <summary>
    /// Stores a new task in <paramref name="queue"/>, pending (or scheduled when it has a due time),
    /// and returns its id, in one step. With a chosen id already used in this queue, nothing is
    /// stored and the id of the task there is returned. With a <see cref="TaskToEnqueue.UniqueKey"/>
    /// whose lock in this queue names a task that is not final (and whose
    /// <see cref="TaskToEnqueue.UniqueFor"/> has not passed), nothing is stored and that task's id
    /// is returned; otherwise the new task takes the lock. Two tasks of one batch with one key are
    /// one task.
    /// </summary>
    ValueTask<string> EnqueueAsync(string queue, TaskToEnqueue task, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores many new tasks of one queue and returns their ids in order. A batch that fails
    /// leaves nothing of itself behind, or exactly the tasks whose ids a
    /// <see cref="TransportException"/> names as sent; it never leaves a task half-stored.
    /// </summary>
    ValueTask<IReadOnlyList<string>> EnqueueManyAsync(string queue, IReadOnlyList<TaskToEnqueue> tasks, CancellationToken cancellationToken = default);

    // ---- Readers ----

    /// <summary>
    /// The task's state now, or null when the store holds nothing under <paramref name="id"/>
    /// (never enqueued here, or its final record expired). Throws <see cref="TaskNotFoundException"/>
    /// when the store can tell the task existed and its data was lost (a Redis that restarted empty).
    /// </summary>
    ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until the task is final and returns its state. Throws <see cref="TimeoutException"/>
    /// after <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: never), and
    /// <see cref="TaskNotFoundException"/> as soon as the store holds nothing for the id.
    /// </summary>
    ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends the task <see cref="TaskState.Canceled"/> unless it is final: a pending, scheduled or
    /// retrying task leaves its index and never runs; a running one keeps its lease until its
    /// worker, told through <see cref="WatchCancellationsAsync"/>, settles it. Returns false when
    /// the task was already final (its state stays) or is not stored.
    /// </summary>
    ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default);

    // ---- Worker ----

    /// <summary>How often a worker must call <see cref="HeartbeatAsync"/> to keep its leases.</summary>
    TimeSpan HeartbeatInterval { get; }

    /// <summary>
    /// Waits (without using CPU) until a task is pending in any of <paramref name="queues"/> or
    /// <paramref name="cancellationToken"/> fires, then starts up to <paramref name="max"/> of them
    /// in one step: highest priority first, oldest first within a priority, the queues in the
    /// order given. Each started task is Started with its attempt number, holds a lease until
    /// its worker settles it with <see cref="CompleteAsync"/> or stops renewing it, and leaves the
    /// pending index. May return an empty list when the store's idle interval passes; callers ask again.
    /// </summary>
    ValueTask<IReadOnlyList<TaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Settles a lease in one step: stores the outcome (unless the task is already final: the first
    /// final state wins, so a task canceled while it ran stays Canceled), moves the task to the
    /// index of its new state and drops the lease. Returns false when the lease was no longer this
    /// run's (it expired and the task was recovered): nothing is changed then.
    /// </summary>
    ValueTask<bool> CompleteAsync(TaskLease lease, TaskCompletion completion, CancellationToken cancellationToken = default);

    /// <summary>
    /// Renews the leases of <paramref name="held"/> and publishes <paramref name="worker"/> for
    /// tools, with the ids of the tasks it holds.
    /// </summary>
    ValueTask HeartbeatAsync(WorkerDescription worker, IReadOnlyCollection<TaskLease> held, CancellationToken cancellationToken = default);

    /// <summary>Removes this process's worker from the registry (a graceful stop).</summary>
    ValueTask LeaveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts every task of <paramref name="queues"/> whose lease expired (its worker stopped
    /// renewing it: killed, frozen, cut off) back to the head of its pending index, with the
    /// attempt of the lost run not counted. Returns how many came back.
    /// </summary>
    ValueTask<int> RecoverAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the scheduled and retrying tasks of <paramref name="queues"/> that are due to their
    /// pending index. Returns when the next one is due, or null when none is waiting.
    /// </summary>
    ValueTask<DateTimeOffset?> PromoteDueAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="onCanceled"/> with the id of every task canceled from now on, until disposed.</summary>
    ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default);

    // ---- Tools ----

    /// <summary>Checks that the store can be reached; throws <see cref="TransportException"/> when it cannot.</summary>
    ValueTask PingAsync(CancellationToken cancellationToken = default);

    /// <summary>The workers whose heartbeat is alive, as they published themselves.</summary>
    ValueTask<IReadOnlyList<LiveWorker>> GetWorkersAsync(CancellationToken cancellationToken = default);

    /// <summary>The queues the store knows: every queue a task was sent to or a live worker serves, in name order.</summary>
    ValueTask<IReadOnlyList<string>> GetQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>How many tasks of <paramref name="queue"/> are in each state; O(1) per state.</summary>
    ValueTask<StateCounts> CountAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the tasks of <paramref name="queue"/> in <paramref name="state"/>, in O(page):
    /// pending ones in the order they will run, scheduled and retrying by due time, running ones
    /// by lease deadline, final ones newest first (the final indexes keep the most recent, up to
    /// the store's cap).
    /// </summary>
    ValueTask<IReadOnlyList<StoredTask>> ListAsync(string queue, TaskState state, long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// The limits of <paramref name="queue"/> in use (<see cref="TaskLimit"/>), in key order, at
    /// most <paramref name="max"/>: a concurrency limit while a task of it runs or waits for it, a
    /// rate limit while its window holds a start or a task waits for it.
    /// </summary>
    ValueTask<IReadOnlyList<StoredLimit>> GetLimitsAsync(string queue, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the tasks <paramref name="limit"/> holds back in <paramref name="queue"/> (only its
    /// <see cref="TaskLimit.Key"/> and kind are used), in the order it will let them start.
    /// </summary>
    ValueTask<IReadOnlyList<StoredTask>> ListHeldAsync(string queue, TaskLimit limit, long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>The unique locks of <paramref name="queue"/> that have not lapsed, soonest to lapse first, at most <paramref name="max"/>.</summary>
    ValueTask<IReadOnlyList<StoredLock>> GetLocksAsync(string queue, int max, CancellationToken cancellationToken = default);

    /// <summary>The task with its envelope (while the store keeps it: until it succeeds), or null when not stored.</summary>
    ValueTask<StoredTask?> GetStoredAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends tasks that are final (failed, canceled, expired), scheduled or retrying back to the
    /// tail of their pending index now, as new attempts counted from 1 again. Ids that are not
    /// stored, running, pending, succeeded, or whose envelope is gone are skipped. Returns how many moved.
    /// </summary>
    ValueTask<int> RequeueAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Deletes tasks that are not running (their records and index entries). Returns how many were deleted.</summary>
    ValueTask<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes up to <paramref name="max"/> pending tasks of <paramref name="queue"/>, oldest first.
    /// Returns how many; call again until 0. A workflow member purged counts as canceled for its
    /// join, as a deleted one does.
    /// </summary>
    ValueTask<int> PurgeAsync(string queue, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a worker's counts to the store's task metrics (by the minute, and by ten minutes), kept
    /// as <see cref="Metrics.MetricsRetention"/> says. Counts add up: two workers' figures for one
    /// task and minute are summed.
    /// </summary>
    ValueTask RecordMetricsAsync(IReadOnlyList<Metrics.TaskMetrics> metrics, CancellationToken cancellationToken = default);

    /// <summary>
    /// Task metrics of the intervals of <paramref name="resolution"/> that start from
    /// <paramref name="from"/> up to (not including) <paramref name="to"/>, one entry per task and
    /// interval that had runs, oldest first.
    /// </summary>
    ValueTask<IReadOnlyList<Metrics.TaskMetrics>> GetMetricsAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan resolution, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores the latest progress of the run <paramref name="lease"/> holds: only while the task is
    /// Started under that lease's fence, so that a stale run never overwrites a newer one's. The
    /// value is kept for the queue's result TTL after its last write. False when refused.
    /// </summary>
    ValueTask<bool> SetProgressAsync(TaskLease lease, ReadOnlyMemory<byte> progress, CancellationToken cancellationToken = default);

    /// <summary>The latest progress stored for <paramref name="id"/>; null when it has none.</summary>
    ValueTask<StoredProgress?> GetProgressAsync(string id, CancellationToken cancellationToken = default);
}

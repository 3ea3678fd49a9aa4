using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Metrics;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Tests.Support;

/// <summary>
/// A real in-memory store that also records every task and join it is given, as it was given, so
/// that a test can see what a send path hands the store (its limits, say).
/// </summary>
internal sealed class RecordingStore(InMemoryTaskStore inner) : ITaskStore, IScheduleStore, IWorkflowStore
{
    /// <summary>Every task given to an enqueue, in order, with its queue.</summary>
    public ConcurrentQueue<(string Queue, TaskToEnqueue Task)> Enqueued { get; } = new();

    /// <summary>Every join given to <see cref="CreateJoinsAsync"/>, in order.</summary>
    public ConcurrentQueue<WorkflowJoin> Joins { get; } = new();

    public InMemoryTaskStore Inner => inner;

    /// <summary>Called after each enqueue of many has been stored, with how many it stored.</summary>
    public Action<int>? AfterEnqueueMany { get; set; }

    public TimeSpan HeartbeatInterval => inner.HeartbeatInterval;

    public ValueTask<string> EnqueueAsync(string queue, TaskToEnqueue task, CancellationToken cancellationToken = default)
    {
        Enqueued.Enqueue((queue, task));
        return inner.EnqueueAsync(queue, task, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<string>> EnqueueManyAsync(string queue, IReadOnlyList<TaskToEnqueue> tasks, CancellationToken cancellationToken = default)
    {
        foreach (var task in tasks)
        {
            Enqueued.Enqueue((queue, task));
        }

        var ids = await inner.EnqueueManyAsync(queue, tasks, cancellationToken).ConfigureAwait(false);
        AfterEnqueueMany?.Invoke(ids.Count);
        return ids;
    }

    public ValueTask CreateJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default)
    {
        foreach (var join in joins)
        {
            Joins.Enqueue(join);
        }

        return inner.CreateJoinsAsync(joins, cancellationToken);
    }

    public ValueTask SealJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default) => inner.SealJoinsAsync(joins, cancellationToken);

    public ValueTask<int> DeliverLeftoversAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default) => inner.DeliverLeftoversAsync(queues, cancellationToken);

    public ValueTask<JoinInfo?> GetJoinAsync(string queue, string key, CancellationToken cancellationToken = default) => inner.GetJoinAsync(queue, key, cancellationToken);

    public ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default) => inner.GetAsync(id, cancellationToken);

    public ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default) => inner.WaitAsync(id, timeout, cancellationToken);

    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default) => inner.CancelAsync(id, cancellationToken);

    public ValueTask<IReadOnlyList<TaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken) => inner.FetchAsync(queues, max, cancellationToken);

    public ValueTask<bool> CompleteAsync(TaskLease lease, TaskCompletion completion, CancellationToken cancellationToken = default) => inner.CompleteAsync(lease, completion, cancellationToken);

    public ValueTask HeartbeatAsync(WorkerDescription worker, IReadOnlyCollection<TaskLease> held, CancellationToken cancellationToken = default) => inner.HeartbeatAsync(worker, held, cancellationToken);

    public ValueTask LeaveAsync(CancellationToken cancellationToken = default) => inner.LeaveAsync(cancellationToken);

    public ValueTask<int> RecoverAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default) => inner.RecoverAsync(queues, cancellationToken);

    public ValueTask<DateTimeOffset?> PromoteDueAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default) => inner.PromoteDueAsync(queues, cancellationToken);

    public ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default) => inner.WatchCancellationsAsync(onCanceled, cancellationToken);

    public ValueTask PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

    public ValueTask<IReadOnlyList<LiveWorker>> GetWorkersAsync(CancellationToken cancellationToken = default) => inner.GetWorkersAsync(cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetQueuesAsync(CancellationToken cancellationToken = default) => inner.GetQueuesAsync(cancellationToken);

    public ValueTask<StateCounts> CountAsync(string queue, CancellationToken cancellationToken = default) => inner.CountAsync(queue, cancellationToken);

    public ValueTask<IReadOnlyList<StoredTask>> ListAsync(string queue, TaskState state, long offset, int count, CancellationToken cancellationToken = default) => inner.ListAsync(queue, state, offset, count, cancellationToken);

    public ValueTask<IReadOnlyList<StoredLimit>> GetLimitsAsync(string queue, int max, CancellationToken cancellationToken = default) => inner.GetLimitsAsync(queue, max, cancellationToken);

    public ValueTask<IReadOnlyList<StoredTask>> ListHeldAsync(string queue, TaskLimit limit, long offset, int count, CancellationToken cancellationToken = default) => inner.ListHeldAsync(queue, limit, offset, count, cancellationToken);

    public ValueTask<IReadOnlyList<StoredLock>> GetLocksAsync(string queue, int max, CancellationToken cancellationToken = default) => inner.GetLocksAsync(queue, max, cancellationToken);

    public ValueTask<StoredTask?> GetStoredAsync(string id, CancellationToken cancellationToken = default) => inner.GetStoredAsync(id, cancellationToken);

    public ValueTask<int> RequeueAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) => inner.RequeueAsync(ids, cancellationToken);

    public ValueTask<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) => inner.DeleteAsync(ids, cancellationToken);

    public ValueTask<int> PurgeAsync(string queue, int max, CancellationToken cancellationToken = default) => inner.PurgeAsync(queue, max, cancellationToken);

    public ValueTask RecordMetricsAsync(IReadOnlyList<TaskMetrics> metrics, CancellationToken cancellationToken = default) => inner.RecordMetricsAsync(metrics, cancellationToken);

    public ValueTask<IReadOnlyList<TaskMetrics>> GetMetricsAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan resolution, CancellationToken cancellationToken = default) => inner.GetMetricsAsync(from, to, resolution, cancellationToken);

    public ValueTask<bool> SetProgressAsync(TaskLease lease, ReadOnlyMemory<byte> progress, CancellationToken cancellationToken = default) => inner.SetProgressAsync(lease, progress, cancellationToken);

    public ValueTask<StoredProgress?> GetProgressAsync(string id, CancellationToken cancellationToken = default) => inner.GetProgressAsync(id, cancellationToken);

    public ValueTask<StoredSchedule> UpsertScheduleAsync(string name, string definition, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default) => inner.UpsertScheduleAsync(name, definition, nextFireAt, cancellationToken);

    public ValueTask<StoredSchedule?> GetScheduleAsync(string name, CancellationToken cancellationToken = default) => inner.GetScheduleAsync(name, cancellationToken);

    public ValueTask<IReadOnlyList<StoredSchedule>> ListSchedulesAsync(CancellationToken cancellationToken = default) => inner.ListSchedulesAsync(cancellationToken);

    public ValueTask<bool> AdvanceAsync(string name, long generation, DateTimeOffset expectedNext, DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, string? lastTaskId, CancellationToken cancellationToken = default)
        => inner.AdvanceAsync(name, generation, expectedNext, nextFireAt, lastFireAt, lastTaskId, cancellationToken);

    public ValueTask<bool> SetPausedAsync(string name, bool paused, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default) => inner.SetPausedAsync(name, paused, nextFireAt, cancellationToken);

    public ValueTask<bool> RequestTriggerAsync(string name, DateTimeOffset at, CancellationToken cancellationToken = default) => inner.RequestTriggerAsync(name, at, cancellationToken);

    public ValueTask<bool> CompleteTriggerAsync(string name, DateTimeOffset requestedAt, string taskId, CancellationToken cancellationToken = default) => inner.CompleteTriggerAsync(name, requestedAt, taskId, cancellationToken);

    public ValueTask<bool> RemoveScheduleAsync(string name, CancellationToken cancellationToken = default) => inner.RemoveScheduleAsync(name, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Transport;

/// <summary>
/// Stores each task's state and result under its id, for a time (the result TTL), and wakes the
/// callers waiting for a task when it reaches a final state.
/// </summary>
public interface IResultBackend : IAsyncDisposable
{
    /// <summary>
    /// Writes the state of a task. A final state wakes its waiters. A final state already stored
    /// is never replaced: the first final state wins (a task canceled while it finishes stays
    /// canceled).
    /// </summary>
    ValueTask SetAsync(TaskInfo info, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the first state of a task just enqueued (Pending or Scheduled) unless a state is
    /// stored already: a worker's Started, or a cancel, that got there first stays. So the state
    /// and the message may travel in either order.
    /// </summary>
    ValueTask SetEnqueuedAsync(TaskInfo info, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a task <see cref="TaskState.Canceled"/> unless its state is already final, wakes its
    /// waiters, and tells the workers so that a running task's token is signalled. Returns
    /// whether it was canceled (false: it had already ended).
    /// </summary>
    ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="onCanceled"/> with the id of every task canceled from now on, until disposed.</summary>
    ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="started"/> unless the stored state is already final (or canceled),
    /// in one atomic step; returns that final state, or null when the run may go ahead.
    /// </summary>
    ValueTask<TaskInfo?> TryStartAsync(TaskInfo started, CancellationToken cancellationToken = default);

    /// <summary>The stored state of a task, or null when none is stored (never enqueued, or expired).</summary>
    ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until the task is in a final state and returns it. Throws <see cref="TimeoutException"/>
    /// after <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/> waits for ever).
    /// </summary>
    ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default);
}

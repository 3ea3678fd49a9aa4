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
    /// <summary>Writes the state of a task. A final state wakes its waiters.</summary>
    ValueTask SetAsync(TaskInfo info, CancellationToken cancellationToken = default);

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

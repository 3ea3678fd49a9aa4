using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Store;

/// <summary>
/// Implemented beside <see cref="ITaskStore"/> by a store that hears when a task becomes due
/// (announced by the process that scheduled it), so that a worker's promotion of due tasks sleeps
/// until the next due time it knows of, or its store's next safety look, rather than calling
/// <see cref="ITaskStore.PromoteDueAsync"/> once a second. A store that does not implement it is
/// called at most a second apart, as before.
/// </summary>
public interface IDueTimeFeed
{
    /// <summary>
    /// Calls <paramref name="heard"/> whenever the store heard of a task that may be due earlier
    /// than its last <see cref="ITaskStore.PromoteDueAsync"/> answered (scheduled, a retry settled,
    /// a limit's timer), and whenever what it knew may have been lost (a reconnect). Announcements
    /// made once this returns are heard. Dispose the result to stop.
    /// </summary>
    /// <param name="heard">Called on the store's own thread: returns at once.</param>
    /// <param name="cancellationToken">Cancels the subscription being made.</param>
    ValueTask<IAsyncDisposable> WatchDueTimesAsync(Action heard, CancellationToken cancellationToken = default);

    /// <summary>
    /// When <see cref="ITaskStore.PromoteDueAsync"/> of <paramref name="queues"/> has to look at
    /// the store next though nothing was heard (its safety look for what nothing announced); now
    /// or earlier when it has to at once.
    /// </summary>
    DateTimeOffset NextPromotionLook(IReadOnlyList<string> queues);
}

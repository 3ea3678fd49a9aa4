using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Store;

/// <summary>
/// Implemented beside <see cref="IScheduleStore"/> by a store that announces changes to its
/// schedules, so that a worker with no fire time coming reads them only when told (and once per
/// <see cref="ScheduleSafetyLookInterval"/>), rather than once a second. A store that does not
/// implement it has its schedules read once a second by each worker, as before.
/// </summary>
public interface IScheduleChangeFeed
{
    /// <summary>
    /// How long a worker goes without reading the schedules when nothing was announced: for what
    /// no announcement tells (a writer that does not announce, a hand edit of the store).
    /// </summary>
    TimeSpan ScheduleSafetyLookInterval { get; }

    /// <summary>
    /// Calls <paramref name="changed"/> after any process stored a new or changed schedule,
    /// paused, resumed, triggered or removed one, and whenever announcements may have been lost
    /// (a reconnect); not after an advance (<see cref="IScheduleStore.AdvanceAsync"/>) or a
    /// completed trigger, which the workers firing the schedule read in their own rounds.
    /// Announcements made once this returns are heard. Dispose the result to stop.
    /// </summary>
    /// <param name="changed">Called on the store's own thread: returns at once.</param>
    /// <param name="cancellationToken">Cancels the subscription being made.</param>
    ValueTask<IAsyncDisposable> WatchScheduleChangesAsync(Action changed, CancellationToken cancellationToken = default);
}

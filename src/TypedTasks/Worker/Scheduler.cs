using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// Moves scheduled and retrying tasks into their queue when they are due, in one store call for
/// all the queues this worker serves. It sleeps until the next one is due. On a store that hears
/// of due times (<see cref="IDueTimeFeed"/>: the Redis store hears of them by a message, and looks
/// at each queue at least once per safety look interval in case a message was lost), what it
/// hears ends the sleep, and with nothing due it sleeps until the store's next safety look; on
/// another store it sleeps at most <see cref="MaxSleep"/>, so that a task scheduled meanwhile by
/// another process is late by at most that much. A sleep that is not for a due time ends on the
/// worker's <see cref="DutyTick"/>.
/// </summary>
internal sealed class Scheduler(ITaskStore store, IReadOnlyList<string> queues, StoreOutage outage, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken stop)
    {
        if (store is not IDueTimeFeed feed)
        {
            await WorkerDuty.RunAsync("promotion of due tasks", async token => Until(await store.PromoteDueAsync(queues, token).ConfigureAwait(false), MaxSleep), outage, time, logger, stop).ConfigureAwait(false);
            return;
        }

        await WorkerDuty.RunWatchedAsync("promotion of due tasks", feed.WatchDueTimesAsync, async token =>
        {
            var next = await store.PromoteDueAsync(queues, token).ConfigureAwait(false);
            var look = feed.NextPromotionLook(queues) - time.GetUtcNow();
            return Until(next, look > TimeSpan.Zero ? look : TimeSpan.Zero);
        }, outage, time, logger, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// How long to sleep until <paramref name="due"/>, to the time due; or at most
    /// <paramref name="longest"/>, to the worker's <see cref="DutyTick"/> (shared with its other duties).
    /// </summary>
    private TimeSpan Until(DateTimeOffset? due, TimeSpan longest)
    {
        var now = time.GetUtcNow();
        if (due is { } at && at - now < longest)
        {
            return at <= now ? TimeSpan.Zero : at - now;
        }

        return DutyTick.Align(now, longest);
    }
}

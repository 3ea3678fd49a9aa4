using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// The loop every background duty of a worker runs in (heartbeat, recovery, promotion of due
/// tasks, the cancellation watch): do one round, sleep as long as the round says, and after a
/// failure back off (a store that cannot be reached goes to the worker's <see cref="StoreOutage"/>,
/// anything else is logged with its stack), until the worker stops.
/// </summary>
internal static class WorkerDuty
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest sleep: a timer takes at most about 49.7 days, and a sleep until a far safety
    /// look (long interval, many queues) or fire time would throw instead of ending.
    /// </summary>
    internal static readonly TimeSpan MaxSleep = TimeSpan.FromDays(1);

    /// <summary>
    /// <see cref="RunAsync"/> for a duty that its store tells when to look again: it subscribes
    /// (<paramref name="watch"/> subscribes a callback; disposing what it returns unsubscribes)
    /// before its first round, marks a <see cref="WakeSignal"/> before
    /// each round, and what it hears after that ends the sleep that follows; the subscription ends
    /// with the duty.
    /// </summary>
    public static async Task RunWatchedAsync(string name, Func<Action, CancellationToken, ValueTask<IAsyncDisposable>> watch, Func<CancellationToken, Task<TimeSpan>> round, StoreOutage outage, TimeProvider time, ILogger logger, CancellationToken stop)
    {
        var heard = new WakeSignal();
        IAsyncDisposable? watching = null;
        try
        {
            await RunAsync(name, async token =>
            {
                // Subscribed before the first round: what is announced after its read is heard.
                watching ??= await watch(heard.Set, token).ConfigureAwait(false);
                heard.Mark();
                return await round(token).ConfigureAwait(false);
            }, outage, time, logger, stop, (sleep, token) => heard.SleepAsync(sleep, time, token)).ConfigureAwait(false);
        }
        finally
        {
            if (watching is not null)
            {
                await watching.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <param name="name">The duty's name in logs.</param>
    /// <param name="round">One round; returns how long to sleep before the next.</param>
    /// <param name="outage">The worker's account of store outages, told of every failure and success.</param>
    /// <param name="time">The clock the sleeps run on.</param>
    /// <param name="logger">Where failures are told.</param>
    /// <param name="stop">Ends the loop.</param>
    /// <param name="sleep">Sleeps after a round that succeeded (by default a delay on <paramref name="time"/>): a duty woken by a signal too ends it early.</param>
    /// <param name="onTick">Whether a sleep of a second or more after a round ends on the worker's <see cref="DutyTick"/>, shared with its other periodic duties.</param>
    public static async Task RunAsync(string name, Func<CancellationToken, Task<TimeSpan>> round, StoreOutage outage, TimeProvider time, ILogger logger, CancellationToken stop, Func<TimeSpan, CancellationToken, Task>? sleep = null, bool onTick = false)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        while (!stop.IsCancellationRequested)
        {
            TimeSpan wait;
            var failed = false;
            var startedAt = time.GetUtcNow();
            try
            {
                wait = await round(stop).ConfigureAwait(false);
                if (onTick)
                {
                    wait = DutyTick.Align(time.GetUtcNow(), wait);
                }

                backoff.Reset();
                outage.Reached(name);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                wait = backoff.Next();
                failed = true;
                if (ex is TransportException unreachable)
                {
                    outage.Failed(name, unreachable, wait, startedAt);
                }
                else
                {
                    Log.DutyBroken(logger, ex, name, wait);
                }
            }

            if (wait > MaxSleep)
            {
                wait = MaxSleep;
            }

            try
            {
                await (failed || sleep is null ? Task.Delay(wait, time, stop) : sleep(wait, stop)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

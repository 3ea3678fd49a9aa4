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

    /// <param name="name">The duty's name in logs.</param>
    /// <param name="round">One round; returns how long to sleep before the next.</param>
    /// <param name="outage">The worker's account of store outages, told of every failure and success.</param>
    /// <param name="time">The clock the sleeps run on.</param>
    /// <param name="logger">Where failures are told.</param>
    /// <param name="stop">Ends the loop.</param>
    public static async Task RunAsync(string name, Func<CancellationToken, Task<TimeSpan>> round, StoreOutage outage, TimeProvider time, ILogger logger, CancellationToken stop)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        while (!stop.IsCancellationRequested)
        {
            TimeSpan sleep;
            var startedAt = time.GetUtcNow();
            try
            {
                sleep = await round(stop).ConfigureAwait(false);
                backoff.Reset();
                outage.Reached();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                sleep = backoff.Next();
                if (ex is TransportException unreachable)
                {
                    outage.Failed(name, unreachable, sleep, startedAt);
                }
                else
                {
                    Log.DutyBroken(logger, ex, name, sleep);
                }
            }

            try
            {
                await Task.Delay(sleep, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

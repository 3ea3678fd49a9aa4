using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// The loop every background duty of a worker runs in (heartbeat, recovery, promotion of due
/// tasks, the cancellation watch): do one round, sleep as long as the round says, and after a
/// failure back off (a store that cannot be reached is one line, anything else is logged with its
/// stack), until the worker stops.
/// </summary>
internal static class WorkerDuty
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <param name="name">The duty's name in logs.</param>
    /// <param name="round">One round; returns how long to sleep before the next.</param>
    /// <param name="time">The clock the sleeps run on.</param>
    /// <param name="logger">Where failures are told.</param>
    /// <param name="stop">Ends the loop.</param>
    public static async Task RunAsync(string name, Func<CancellationToken, Task<TimeSpan>> round, TimeProvider time, ILogger logger, CancellationToken stop)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            TimeSpan sleep;
            try
            {
                sleep = await round(stop).ConfigureAwait(false);
                backoff.Reset();
                failures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                sleep = backoff.Next();
                if (ex is not TransportException)
                {
                    Log.DutyBroken(logger, ex, name, sleep);
                }
                else if (++failures == 1)
                {
                    Log.DutyFailed(logger, name, ex.Message, sleep);
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

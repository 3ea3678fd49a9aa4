using System;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// The loop of the worker's Redis components: do the work, then sleep for the interval, until
/// stop. A Redis outage is one short line per failed round (<see cref="RedisOutage"/>) and the
/// next round comes after a growing wait; it never ends the loop.
/// </summary>
internal static class Periodic
{
    public static async Task RunAsync(string loop, TimeSpan interval, TimeSpan maxBackoff, Func<Task> work, RedisOutage outage, TimeProvider time, CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var wait = interval;
            var started = time.GetUtcNow();
            try
            {
                await work().ConfigureAwait(false);
                failures = 0;
                outage.Reachable();
            }
            catch (TransportException ex)
            {
                wait = RedisOutage.Backoff(interval, ++failures, maxBackoff);
                outage.Failed(loop, ex, wait, started);
            }

            try
            {
                if (failures == 0)
                {
                    await Task.Delay(wait, time, stop).ConfigureAwait(false);
                }
                else
                {
                    await outage.DelayAsync(wait, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

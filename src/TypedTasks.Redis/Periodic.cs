using System;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// The loop of the worker's Redis components: do the work, then sleep for the interval, until
/// stop. A Redis outage is logged and the next round tries again; it never ends the loop.
/// </summary>
internal static class Periodic
{
    public static async Task RunAsync(TimeSpan interval, Func<Task> work, Action<TransportException> failed, TimeProvider time, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (TransportException ex)
            {
                failed(ex);
            }

            try
            {
                await Task.Delay(interval, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

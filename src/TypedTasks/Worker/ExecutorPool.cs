using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Worker;

/// <summary>
/// <see cref="WorkerOptions.Concurrency"/> loops that each take a started task from the prefetch
/// buffer and run it to a settled end; the lease is let go once settled (or given up), so that the
/// heartbeat stops renewing it.
/// </summary>
internal sealed class ExecutorPool(TaskExecutor executor, PrefetchBuffer buffer, LeaseSet leases, CancellationRelay cancellations, WorkerStatus status, ILogger logger)
{
    private int _running;

    /// <summary>Runs taken from the buffer and not settled yet.</summary>
    public int Running => Volatile.Read(ref _running);

    public IReadOnlyList<Task> Start(int concurrency, CancellationToken stop, CancellationToken hardStop)
    {
        var loops = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            loops[i] = Task.Run(() => LoopAsync(stop, hardStop), CancellationToken.None);
        }

        return loops;
    }

    private async Task LoopAsync(CancellationToken stop, CancellationToken hardStop)
    {
        while (!stop.IsCancellationRequested)
        {
            Store.TaskLease lease;
            try
            {
                lease = await buffer.ReadAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                return;
            }

            Interlocked.Increment(ref _running);
            try
            {
                await executor.RunAsync(lease, hardStop).ConfigureAwait(false);
                status.Finished();
            }
            catch (Exception ex)
            {
                // The store failed while settling and the worker is forced to stop: the lease
                // stays with the store, expires, and the task runs again.
                Log.RunFailed(logger, ex);
            }
            finally
            {
                leases.Remove(lease);
                cancellations.Forget(lease.Id);
                Interlocked.Decrement(ref _running);
            }
        }
    }
}

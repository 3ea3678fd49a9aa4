using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Metrics;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// Sends the worker's task metrics to the store every ten seconds, and once more as it stops, so
/// that the dashboard's charts survive restarts. A worker with nothing to send sends nothing.
/// </summary>
internal sealed class MetricsFlusher(ITaskStore store, MetricsRecorder recorder, StoreOutage outage, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public Task RunAsync(CancellationToken stop)
        => WorkerDuty.RunAsync("metrics", async ct =>
        {
            await FlushAsync(ct).ConfigureAwait(false);
            return Interval;
        }, outage, time, logger, stop, onTick: true);

    /// <summary>One flush; on failure what it took goes back to the recorder, and the error to the caller.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var metrics = recorder.Drain();
        if (metrics.Count == 0)
        {
            return;
        }

        try
        {
            await store.RecordMetricsAsync(metrics, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            recorder.Restore(metrics);
            throw;
        }
    }

    /// <summary>The last flush as the worker stops: one try; on any failure these counts are lost and logged, and the worker stops all the same.</summary>
    public async Task FinalFlushAsync()
    {
        try
        {
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Metrics never stop a worker from stopping: these counts are lost, and said so.
            Log.MetricsNotFlushed(logger, ex);
        }
    }
}

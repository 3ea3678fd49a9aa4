using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Keeps this worker alive in each served queue's worker set: its score is the time after which
/// other workers may take back its in-flight messages. On a graceful stop the deadline is set to
/// now, so anything left in flight (a requeue that failed) is taken back at once, not after the
/// timeout.
/// </summary>
internal sealed class RedisHeartbeat(RedisBroker broker, RedisTransportOptions options, TimeProvider time, ILogger logger)
{
    public async Task RunAsync(IReadOnlyList<string> queues, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await BeatAsync(queues, time.GetUtcNow() + options.WorkerTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (Transient.IsTransient(ex) || ex is Transport.TransportException)
            {
                RedisLog.HeartbeatFailed(logger, ex);
            }

            try
            {
                await Task.Delay(options.HeartbeatInterval, time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        try
        {
            await BeatAsync(queues, time.GetUtcNow()).ConfigureAwait(false);
        }
        catch (Exception ex) when (Transient.IsTransient(ex) || ex is Transport.TransportException)
        {
            RedisLog.HeartbeatFailed(logger, ex);
        }
    }

    private Task BeatAsync(IReadOnlyList<string> queues, DateTimeOffset deadline)
        => Transient.Run(Task.WhenAll(queues.Select(q =>
            broker.Database.SortedSetAddAsync(broker.Keys.Workers(q), broker.WorkerId, deadline.ToUnixTimeMilliseconds()))));
}

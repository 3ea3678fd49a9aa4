using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Moves due messages (delays, ETAs, retry backoffs) from each served queue's scheduled set into
/// its ready lists (promote.lua). It sleeps until the earliest due time, at most
/// <see cref="RedisTransportOptions.SchedulerInterval"/>, and wakes early when a producer
/// schedules an earlier message.
/// </summary>
internal sealed class RedisScheduler(RedisBroker broker, RedisTransportOptions options, TimeProvider time, AsyncSignal wake)
{
    private const int Batch = 1000;

    public async Task RunAsync(IReadOnlyList<string> queues, CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var sleep = options.SchedulerInterval;
            var started = time.GetUtcNow();
            try
            {
                foreach (var queue in queues)
                {
                    var (moved, nextDue) = await PromoteAsync(queue).ConfigureAwait(false);
                    if (moved >= Batch)
                    {
                        sleep = TimeSpan.Zero;
                    }
                    else if (nextDue is { } due)
                    {
                        var untilDue = due - time.GetUtcNow();
                        sleep = untilDue < sleep ? (untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue) : sleep;
                    }
                }

                failures = 0;
                broker.Outage.Reachable();
            }
            catch (Transport.TransportException ex)
            {
                sleep = RedisOutage.Backoff(options.SchedulerInterval, ++failures, RedisOutage.MaxBackoff);
                broker.Outage.Failed("scheduler", ex, sleep, started);
            }

            try
            {
                if (failures > 0)
                {
                    await broker.Outage.DelayAsync(sleep, stop).ConfigureAwait(false);
                }
                else if (sleep > TimeSpan.Zero)
                {
                    await wake.WaitAsync(sleep, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task<(long Moved, DateTimeOffset? NextDue)> PromoteAsync(string queue)
    {
        var keys = broker.Keys.ReadyLists(queue, leading: 1);
        keys[0] = broker.Keys.Scheduled(queue);
        var result = (RedisResult[])(await Transient.Run(RedisScript.Promote.RunAsync(
            broker.Database, keys, [time.GetUtcNow().ToUnixTimeMilliseconds(), Batch, broker.Keys.Wake.ToString(), queue])).ConfigureAwait(false))!;
        var next = (long)result[1];
        return ((long)result[0], next < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(next));
    }
}

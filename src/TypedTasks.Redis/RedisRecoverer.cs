using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Finds workers whose heartbeat deadline has passed in the served queues and returns their
/// in-flight messages to the head of their ready lists (recover.lua), so a worker killed with
/// SIGKILL loses nothing.
/// </summary>
internal sealed class RedisRecoverer(RedisBroker broker, RedisTransportOptions options, TimeProvider time, ILogger logger)
{
    public Task RunAsync(IReadOnlyList<string> queues, CancellationToken stop)
        => Periodic.RunAsync("recoverer", options.RecoverInterval, RedisOutage.MaxBackoff, async () =>
        {
            foreach (var queue in queues)
            {
                await RecoverAsync(queue).ConfigureAwait(false);
            }
        }, broker.Outage, time, stop);

    /// <summary>Returns the messages of every dead worker of one queue; the count moved.</summary>
    internal async Task<long> RecoverAsync(string queue)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var workers = broker.Keys.Workers(queue);
        var dead = await Transient.Run(broker.Database.SortedSetRangeByScoreAsync(workers, double.NegativeInfinity, now)).ConfigureAwait(false);
        long total = 0;
        foreach (var worker in dead)
        {
            var id = worker.ToString();
            if (id == broker.WorkerId)
            {
                continue;
            }

            var keys = broker.Keys.ReadyLists(queue, leading: 2);
            keys[0] = workers;
            keys[1] = broker.Keys.InFlight(queue, id);
            var moved = (long)await Transient.Run(RedisScript.Recover.RunAsync(broker.Database, keys, [id, now, broker.Keys.Wake.ToString(), queue])).ConfigureAwait(false);
            if (moved > 0)
            {
                RedisLog.Recovered(logger, moved, id, queue);
                total += moved;
            }
        }

        return total;
    }
}

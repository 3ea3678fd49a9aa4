using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Returns to their queue the entries of this worker's own in-flight lists that no lease holds.
/// They appear when Redis ran a fetch but its reply never arrived (Redis killed or the connection
/// cut at that moment): the worker is alive, so no other worker's recovery would take them. An
/// entry must be unheld on two sweeps in a row, so a fetch whose reply is on its way is left alone.
/// </summary>
internal sealed class RedisInFlightSweeper(RedisBroker broker, RedisTransportOptions options, TimeProvider time, ILogger logger)
{
    private HashSet<(string Queue, ulong Entry)> _suspects = [];

    public Task RunAsync(IReadOnlyList<string> queues, CancellationToken stop)
        => Periodic.RunAsync("in-flight sweep", options.InFlightSweepInterval, RedisOutage.MaxBackoff, () => SweepAsync(queues), broker.Outage, time, stop);

    internal async Task<int> SweepAsync(IReadOnlyList<string> queues)
    {
        var suspects = new HashSet<(string, ulong)>();
        var returned = 0;
        foreach (var queue in queues)
        {
            var entries = await Transient.Run(broker.Database.ListRangeAsync(broker.Keys.InFlight(queue, broker.WorkerId))).ConfigureAwait(false);
            foreach (var value in entries)
            {
                var entry = (byte[])value!;
                var key = RedisBroker.EntryKey(queue, entry);
                if (broker.IsHeld(key))
                {
                    continue;
                }

                if (_suspects.Contains(key) && await broker.RequeueAsync(queue, entry).ConfigureAwait(false))
                {
                    returned++;
                    RedisLog.Orphaned(logger, queue);
                }
                else
                {
                    suspects.Add(key);
                }
            }
        }

        _suspects = suspects;
        return returned;
    }
}

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
internal sealed class RedisHeartbeat(RedisBroker broker, RedisTransportOptions options, TimeProvider time, ILogger logger, Transport.WorkerDescription worker)
{
    /// <summary>The worker-info field that lists the tasks the worker knows.</summary>
    internal const string TasksField = "tasks";

    private readonly DateTimeOffset _started = time.GetUtcNow();

    public async Task RunAsync(CancellationToken stop)
    {
        // A heartbeat never waits long: a worker whose beats stop for WorkerTimeout counts as
        // dead, and its in-flight messages would run again elsewhere.
        var maxBackoff = options.WorkerTimeout / 3 < RedisOutage.MaxBackoff ? options.WorkerTimeout / 3 : RedisOutage.MaxBackoff;
        await Periodic.RunAsync("heartbeat", options.HeartbeatInterval, maxBackoff, () => BeatAsync(worker.Queues, time.GetUtcNow() + options.WorkerTimeout), broker.Outage, time, stop).ConfigureAwait(false);

        // A last beat with a deadline of now: whatever could not be put back is recovered at once.
        try
        {
            await BeatAsync(worker.Queues, time.GetUtcNow()).ConfigureAwait(false);
        }
        catch (Transport.TransportException ex)
        {
            RedisLog.LastHeartbeatFailed(logger, Transient.Reason(ex));
        }
    }

    private Task BeatAsync(IReadOnlyList<string> queues, DateTimeOffset deadline)
    {
        var now = time.GetUtcNow();
        var info = broker.Keys.WorkerInfo(broker.WorkerId);
        var calls = queues.Select(q => (Task)broker.Database.SortedSetAddAsync(broker.Keys.Workers(q), broker.WorkerId, deadline.ToUnixTimeMilliseconds())).ToList();
        calls.Add(broker.Database.HashSetAsync(info,
        [
            new HashEntry("host", Worker.WorkerIdentity.Host),
            new HashEntry("pid", Worker.WorkerIdentity.Pid),
            new HashEntry("queues", string.Join(",", queues)),
            new HashEntry("concurrency", worker.Concurrency),
            new HashEntry("done", worker.Status.Completed),
            new HashEntry("started_ms", _started.ToUnixTimeMilliseconds()),
            new HashEntry("beat_ms", now.ToUnixTimeMilliseconds()),

            // Task names hold no white space (TT0012), so one space separates them.
            new HashEntry(TasksField, string.Join(' ', worker.Tasks ?? [])),
        ]));
        calls.Add(deadline > now ? broker.Database.KeyExpireAsync(info, deadline - now) : broker.Database.KeyDeleteAsync(info));
        return Transient.Run(Task.WhenAll(calls));
    }
}

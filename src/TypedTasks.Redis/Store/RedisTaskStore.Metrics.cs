using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Metrics;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Task metrics: one hash per interval, P:metrics:1m:&lt;unix seconds&gt; kept six hours and
/// P:metrics:10m:&lt;unix seconds&gt; kept seven days, whose fields are &lt;task&gt;|r (runs),
/// &lt;task&gt;|f (failures) and &lt;task&gt;|h&lt;bucket&gt; (latency buckets). Workers add to them with
/// HINCRBY, so that every worker's figures sum; each key expires with its retention, so that the
/// whole takes bounded memory whatever the traffic. Each key is in its own slot: no step needs two.
/// </summary>
public sealed partial class RedisTaskStore
{
    /// <inheritdoc/>
    public async ValueTask RecordMetricsAsync(IReadOnlyList<TaskMetrics> metrics, CancellationToken cancellationToken = default)
    {
        MetricsTable.Validate(metrics);
        if (metrics.Count == 0)
        {
            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var batch = _db.CreateBatch();
        var writes = new List<Task>();
        var expiring = new HashSet<RedisKey>();
        foreach (var m in metrics)
        {
            foreach (var resolution in new[] { MetricsRetention.Fine, MetricsRetention.Coarse })
            {
                var key = MetricsKey(MetricsRetention.Floor(m.Start, resolution), resolution);
                writes.Add(batch.HashIncrementAsync(key, m.TaskName + "|r", m.Runs));
                if (m.Failures > 0)
                {
                    writes.Add(batch.HashIncrementAsync(key, m.TaskName + "|f", m.Failures));
                }

                for (var i = 0; i < m.Latency.Counts.Count; i++)
                {
                    if (m.Latency.Counts[i] > 0)
                    {
                        writes.Add(batch.HashIncrementAsync(key, m.TaskName + "|h" + i.ToString(CultureInfo.InvariantCulture), m.Latency.Counts[i]));
                    }
                }

                if (expiring.Add(key))
                {
                    // Kept for the retention after the interval's start, however late its last write.
                    var expiresAt = MetricsRetention.Floor(m.Start, resolution) + resolution + MetricsRetention.KeptFor(resolution);
                    writes.Add(batch.KeyExpireAsync(key, expiresAt.UtcDateTime));
                }
            }
        }

        batch.Execute();
        await Transient.Run(Task.WhenAll(writes)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TaskMetrics>> GetMetricsAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan resolution, CancellationToken cancellationToken = default)
    {
        var kept = MetricsRetention.KeptFor(resolution);
        var now = _time.GetUtcNow();
        var start = MetricsRetention.Floor(from > now - kept ? from : now - kept, resolution);
        if (start < from)
        {
            start += resolution;
        }

        var starts = new List<DateTimeOffset>();
        for (var s = start; s < to && starts.Count <= kept / resolution; s += resolution)
        {
            starts.Add(s);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var batch = _db.CreateBatch();
        var reads = starts.ConvertAll(s => batch.HashGetAllAsync(MetricsKey(s, resolution)));
        batch.Execute();
        await Transient.Run(Task.WhenAll(reads)).ConfigureAwait(false);

        var result = new List<TaskMetrics>();
        for (var i = 0; i < starts.Count; i++)
        {
            var byTask = new SortedDictionary<string, (long Runs, long Failures, long[] Buckets)>(StringComparer.Ordinal);
            foreach (var entry in reads[i].Result)
            {
                var field = (string)entry.Name!;
                var bar = field.LastIndexOf('|');
                if (bar <= 0 || !entry.Value.TryParse(out long value) || value < 0)
                {
                    continue; // not a field this store writes
                }

                var task = field[..bar];
                var kind = field[(bar + 1)..];
                if (!byTask.TryGetValue(task, out var counts))
                {
                    counts = (0, 0, new long[LatencyHistogram.Bounds.Count]);
                }

                if (kind == "r")
                {
                    counts.Runs = value;
                }
                else if (kind == "f")
                {
                    counts.Failures = value;
                }
                else if (kind.Length > 1 && kind[0] == 'h' && int.TryParse(kind.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var bucket) && bucket < counts.Buckets.Length)
                {
                    counts.Buckets[bucket] = value;
                }

                byTask[task] = counts;
            }

            foreach (var (task, counts) in byTask)
            {
                if (counts.Runs > 0)
                {
                    result.Add(new TaskMetrics
                    {
                        TaskName = task,
                        Start = starts[i],
                        Resolution = resolution,
                        Runs = counts.Runs,
                        Failures = Math.Min(counts.Failures, counts.Runs),
                        Latency = new LatencyHistogram(counts.Buckets),
                    });
                }
            }
        }

        return result;
    }

    private RedisKey MetricsKey(DateTimeOffset start, TimeSpan resolution)
        => $"{_prefix}:metrics:{(resolution == MetricsRetention.Fine ? "1m" : "10m")}:{start.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
}

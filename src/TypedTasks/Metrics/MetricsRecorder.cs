using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace TypedTasks.Metrics;

/// <summary>
/// A worker's per-task, per-minute counts of the runs it ended, kept in memory until the next
/// flush to the store: recording is three adds under an uncontended lock, so that no run waits on metrics.
/// </summary>
internal sealed class MetricsRecorder(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Task, long Minute), Counts> _counts = new();

    public void Record(string taskName, bool failed, TimeSpan duration)
    {
        var minute = MetricsRetention.Floor(time.GetUtcNow(), MetricsRetention.Fine).UtcTicks;
        var counts = _counts.GetOrAdd((taskName, minute), static _ => new Counts());
        var bucket = LatencyHistogram.BucketOf(duration);

        // One lock per task and minute, held for three adds: a drain takes a run's three counts
        // together or not at all (almost never contended: runs of one task in one minute).
        lock (counts)
        {
            counts.Runs++;
            if (failed)
            {
                counts.Failures++;
            }

            counts.Buckets[bucket]++;
        }
    }

    /// <summary>Takes what was counted since the last drain, by the minute; what comes in meanwhile waits for the next.</summary>
    public IReadOnlyList<TaskMetrics> Drain()
    {
        var drained = new List<TaskMetrics>();
        var current = MetricsRetention.Floor(time.GetUtcNow(), MetricsRetention.Fine).UtcTicks;
        foreach (var (key, counts) in _counts)
        {
            long runs, failures;
            var buckets = new long[counts.Buckets.Length];
            lock (counts)
            {
                runs = counts.Runs;
                failures = counts.Failures;
                counts.Runs = counts.Failures = 0;
                Array.Copy(counts.Buckets, buckets, buckets.Length);
                Array.Clear(counts.Buckets);
            }

            if (runs > 0)
            {
                drained.Add(new TaskMetrics
                {
                    TaskName = key.Task,
                    Start = new DateTimeOffset(key.Minute, TimeSpan.Zero),
                    Resolution = MetricsRetention.Fine,
                    Runs = runs,
                    Failures = failures,
                    Latency = new LatencyHistogram(buckets),
                });
            }
            else if (key.Minute < current - MetricsRetention.Fine.Ticks)
            {
                // No run records into a past minute: its entry can go.
                _counts.TryRemove(key, out _);
            }
        }

        return drained;
    }

    /// <summary>Puts back what a failed flush took, to be sent with the next one.</summary>
    public void Restore(IReadOnlyList<TaskMetrics> metrics)
    {
        foreach (var m in metrics)
        {
            var counts = _counts.GetOrAdd((m.TaskName, m.Start.UtcTicks), static _ => new Counts());
            lock (counts)
            {
                counts.Runs += m.Runs;
                counts.Failures += m.Failures;
                for (var i = 0; i < counts.Buckets.Length; i++)
                {
                    counts.Buckets[i] += m.Latency.Counts[i];
                }
            }
        }
    }

    private sealed class Counts
    {
        public readonly long[] Buckets = new long[LatencyHistogram.Bounds.Count];
        public long Runs;
        public long Failures;
    }
}

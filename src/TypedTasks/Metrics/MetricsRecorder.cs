using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace TypedTasks.Metrics;

/// <summary>
/// A worker's per-task, per-minute counts of the runs it ended, kept in memory until the next
/// flush to the store: recording is a few interlocked adds, so that no run waits on metrics.
/// </summary>
internal sealed class MetricsRecorder(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Task, long Minute), Counts> _counts = new();

    public void Record(string taskName, bool failed, TimeSpan duration)
    {
        var minute = MetricsRetention.Floor(time.GetUtcNow(), MetricsRetention.Fine).UtcTicks;
        var counts = _counts.GetOrAdd((taskName, minute), static _ => new Counts());
        Interlocked.Increment(ref counts.Runs);
        if (failed)
        {
            Interlocked.Increment(ref counts.Failures);
        }

        Interlocked.Increment(ref counts.Buckets[LatencyHistogram.BucketOf(duration)]);
    }

    /// <summary>Takes what was counted since the last drain, by the minute; what comes in meanwhile waits for the next.</summary>
    public IReadOnlyList<TaskMetrics> Drain()
    {
        var drained = new List<TaskMetrics>();
        var current = MetricsRetention.Floor(time.GetUtcNow(), MetricsRetention.Fine).UtcTicks;
        foreach (var (key, counts) in _counts)
        {
            var runs = Interlocked.Exchange(ref counts.Runs, 0);
            var failures = Interlocked.Exchange(ref counts.Failures, 0);
            var buckets = new long[counts.Buckets.Length];
            for (var i = 0; i < buckets.Length; i++)
            {
                buckets[i] = Interlocked.Exchange(ref counts.Buckets[i], 0);
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
            Interlocked.Add(ref counts.Runs, m.Runs);
            Interlocked.Add(ref counts.Failures, m.Failures);
            for (var i = 0; i < counts.Buckets.Length; i++)
            {
                Interlocked.Add(ref counts.Buckets[i], m.Latency.Counts[i]);
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

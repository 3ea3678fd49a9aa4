using System;
using System.Collections.Generic;
using TypedTasks.Metrics;

namespace TypedTasks.Dashboard.Tests;

/// <summary>An hour of figures as workers would have flushed them: a run count and some failures per minute.</summary>
internal static class MetricsSamples
{
    public static IReadOnlyList<TaskMetrics> LastHour(string task, DateTimeOffset now, int runsPerMinute, int failuresEvery)
    {
        var samples = new List<TaskMetrics>();
        var minute = MetricsRetention.Floor(now, MetricsRetention.Fine);
        for (var i = 0; i < 60; i++)
        {
            var runs = runsPerMinute + (i % 7 * 3);
            var counts = new long[LatencyHistogram.Bounds.Count];
            counts[LatencyHistogram.BucketOf(TimeSpan.FromMilliseconds(4))] = runs - 2;
            counts[LatencyHistogram.BucketOf(TimeSpan.FromMilliseconds(80 + (i * 7)))] = 2;
            samples.Add(new TaskMetrics
            {
                TaskName = task,
                Start = minute - TimeSpan.FromMinutes(i),
                Resolution = MetricsRetention.Fine,
                Runs = runs,
                Failures = i % failuresEvery == 0 ? 2 : 0,
                Latency = new LatencyHistogram(counts),
            });
        }

        return samples;
    }
}

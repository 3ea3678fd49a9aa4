using System;
using System.Collections.Generic;
using System.Linq;

namespace TypedTasks.Metrics;

/// <summary>
/// Task metrics held in memory, by the minute and by ten minutes, each dropped when its retention
/// has passed: the in-memory store's, and the rules every store follows for what it is given.
/// </summary>
internal sealed class MetricsTable(TimeProvider time)
{
    private readonly object _gate = new();
    private readonly SortedDictionary<(long Start, string Task), Entry> _fine = new();
    private readonly SortedDictionary<(long Start, string Task), Entry> _coarse = new();

    /// <summary>Checks what a store is asked to record: minute figures of named tasks, with counts that can be.</summary>
    public static void Validate(IReadOnlyList<TaskMetrics> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        foreach (var m in metrics)
        {
            if (m is null || string.IsNullOrEmpty(m.TaskName) || m.Resolution != MetricsRetention.Fine || MetricsRetention.Floor(m.Start, MetricsRetention.Fine) != m.Start
                || m.Runs < 0 || m.Failures < 0 || m.Failures > m.Runs || m.Latency is null || m.Latency.Total != m.Runs)
            {
                throw new ArgumentException(
                    $"Task metrics to record must be minute figures (Resolution = MetricsRetention.Fine, Start on a whole minute) of a named task, with 0 <= Failures <= Runs and one latency count per run; got {m}.",
                    nameof(metrics));
            }
        }
    }

    public void Add(IReadOnlyList<TaskMetrics> metrics)
    {
        Validate(metrics);
        lock (_gate)
        {
            foreach (var m in metrics)
            {
                AddTo(_fine, m.Start, m);
                AddTo(_coarse, MetricsRetention.Floor(m.Start, MetricsRetention.Coarse), m);
            }

            Prune(_fine, MetricsRetention.FineKept);
            Prune(_coarse, MetricsRetention.CoarseKept);
        }
    }

    public IReadOnlyList<TaskMetrics> Get(DateTimeOffset from, DateTimeOffset to, TimeSpan resolution)
    {
        var kept = MetricsRetention.KeptFor(resolution);
        var table = resolution == MetricsRetention.Fine ? _fine : _coarse;
        lock (_gate)
        {
            Prune(table, kept);
            return table
                .Where(e => e.Key.Start >= from.UtcTicks && e.Key.Start < to.UtcTicks)
                .Select(e => new TaskMetrics
                {
                    TaskName = e.Key.Task,
                    Start = new DateTimeOffset(e.Key.Start, TimeSpan.Zero),
                    Resolution = resolution,
                    Runs = e.Value.Runs,
                    Failures = e.Value.Failures,
                    Latency = new LatencyHistogram(e.Value.Latency.Counts),
                })
                .ToList();
        }
    }

    private static void AddTo(SortedDictionary<(long, string), Entry> table, DateTimeOffset start, TaskMetrics m)
    {
        if (!table.TryGetValue((start.UtcTicks, m.TaskName), out var entry))
        {
            table[(start.UtcTicks, m.TaskName)] = entry = new Entry();
        }

        entry.Runs += m.Runs;
        entry.Failures += m.Failures;
        entry.Latency.Add(m.Latency);
    }

    private void Prune(SortedDictionary<(long Start, string Task), Entry> table, TimeSpan kept)
    {
        var oldest = (time.GetUtcNow() - kept).UtcTicks;
        while (table.Count > 0 && table.First() is var first && first.Key.Start < oldest)
        {
            table.Remove(first.Key);
        }
    }

    private sealed class Entry
    {
        public readonly LatencyHistogram Latency = new();
        public long Runs;
        public long Failures;
    }
}

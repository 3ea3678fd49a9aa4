using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.Metrics;

namespace TypedTasks.Tests;

/// <summary>Runs recorded while the flusher drains: every drain must be a valid batch, and no run may be lost.</summary>
public sealed class MetricsRecorderRaceTests
{
    [Fact]
    public async Task Drains_during_records_lose_no_run_and_never_hand_the_store_an_invalid_batch()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 10, 0, 30, TimeSpan.Zero));
        var recorder = new MetricsRecorder(time);
        const int Threads = 4;
        const int PerThread = 300_000;
        var invalid = new List<string>();
        long runs = 0, failures = 0, latencies = 0;

        var writers = Enumerable.Range(0, Threads).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                recorder.Record("t", failed: true, TimeSpan.FromMilliseconds(3));
            }

        })).ToArray();

        // Bounded: the writers end after a fixed number of records.
        while (!writers.All(w => w.IsCompleted))
        {
            Take(recorder.Drain());
        }

        await Task.WhenAll(writers);
        var duringRecords = invalid.Count;
        invalid.Clear();

        // With every record done, what is left must drain as one valid batch (the flusher restores
        // a rejected batch and sends it again: a batch left invalid fails every flush from then on).
        Take(recorder.Drain());
        var afterRecords = invalid.Count;

        var expected = Threads * (long)PerThread;
        Assert.True(duringRecords == 0 && afterRecords == 0 && (runs, failures, latencies) == (expected, expected, expected),
            $"invalid batches while recording: {duringRecords}, after: {afterRecords}; runs {runs}, failures {failures}, latency counts {latencies}; expected {expected} each");

        void Take(IReadOnlyList<TaskMetrics> batch)
        {
            try
            {
                MetricsTable.Validate(batch);
            }
            catch (ArgumentException ex)
            {
                invalid.Add(ex.Message);
            }

            runs += batch.Sum(m => m.Runs);
            failures += batch.Sum(m => m.Failures);
            latencies += batch.Sum(m => m.Latency.Total);
        }
    }
}

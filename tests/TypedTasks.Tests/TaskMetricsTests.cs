using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Inspection;
using TypedTasks.Metrics;

namespace TypedTasks.Tests;

/// <summary>Workers count their runs per task and minute and flush them to the store, where the inspector reads them.</summary>
public sealed class TaskMetricsTests
{
    [Fact]
    public async Task A_workers_runs_and_failures_reach_the_store_and_the_inspector_by_the_minute()
    {
        var store = new InMemoryTaskStore();
        await using (var host = await TestHost.StartAsync(options: o => o.UseInMemory(store)))
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(2 * i, await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(i, i)).GetAsync(TestHost.Wait));
            }

            await Assert.ThrowsAsync<TaskFailedException>(async () => await (await Tasks.Fail.WithClient(host.Client).EnqueueAsync("m")).GetAsync(TestHost.Wait));
        }

        // The host stopped: its worker's last flush has sent every count.
        var inspector = TaskInspectorFactory.Create(store);
        var metrics = await inspector.GetMetricsAsync(TimeSpan.FromHours(1));
        Assert.All(metrics, m => Assert.Equal(MetricsRetention.Fine, m.Resolution));
        Assert.Equal((3L, 0L), (metrics.Where(m => m.TaskName == "tests.add").Sum(m => m.Runs), metrics.Where(m => m.TaskName == "tests.add").Sum(m => m.Failures)));
        Assert.Equal((1L, 1L), (metrics.Where(m => m.TaskName == "tests.fail").Sum(m => m.Runs), metrics.Where(m => m.TaskName == "tests.fail").Sum(m => m.Failures)));
        Assert.Equal(3L, metrics.Where(m => m.TaskName == "tests.add").Sum(m => m.Latency.Total));

        var week = await inspector.GetMetricsAsync(TimeSpan.FromDays(7));
        Assert.All(week, m => Assert.Equal(MetricsRetention.Coarse, m.Resolution));
        Assert.Equal(3L, week.Where(m => m.TaskName == "tests.add").Sum(m => m.Runs));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => inspector.GetMetricsAsync(TimeSpan.FromDays(8)));
    }

    [Fact]
    public void A_histogram_gives_the_bucket_bound_that_holds_a_percentile()
    {
        var counts = new long[LatencyHistogram.Bounds.Count];
        counts[LatencyHistogram.BucketOf(TimeSpan.FromMilliseconds(0.5))] = 90;   // <= 1 ms
        counts[LatencyHistogram.BucketOf(TimeSpan.FromMilliseconds(40))] = 9;     // <= 50 ms
        counts[LatencyHistogram.BucketOf(TimeSpan.FromMinutes(5))] = 1;           // longer than 60 s
        var histogram = new LatencyHistogram(counts);
        Assert.Equal(TimeSpan.FromMilliseconds(1), histogram.Percentile(50));
        Assert.Equal(TimeSpan.FromMilliseconds(50), histogram.Percentile(95));
        Assert.Equal(TimeSpan.FromSeconds(60), histogram.Percentile(100));          // the longest bound known
        Assert.Null(new LatencyHistogram().Percentile(50));
        Assert.Throws<ArgumentException>(() => new LatencyHistogram([1, 2, 3]));
    }

    [Fact]
    public void The_recorder_drains_by_the_minute_puts_back_a_failed_flush_and_forgets_idle_minutes()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 10, 0, 30, TimeSpan.Zero));
        var recorder = new MetricsRecorder(time);
        recorder.Record("t", failed: false, TimeSpan.FromMilliseconds(3));
        recorder.Record("t", failed: true, TimeSpan.FromMilliseconds(3));
        time.Advance(TimeSpan.FromMinutes(1));
        recorder.Record("t", failed: false, TimeSpan.FromMilliseconds(3));

        var first = recorder.Drain();
        Assert.Equal([(new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero), 2L, 1L), (new DateTimeOffset(2026, 11, 29, 10, 1, 0, TimeSpan.Zero), 1L, 0L)],
            first.Select(m => (m.Start, m.Runs, m.Failures)).OrderBy(m => m.Start).ToArray());
        Assert.Empty(recorder.Drain());

        recorder.Restore(first);
        Assert.Equal(3L, recorder.Drain().Sum(m => m.Runs));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty(recorder.Drain());
    }
}

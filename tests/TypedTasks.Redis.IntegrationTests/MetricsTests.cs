using System;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>The TypedTasks meter on a real Redis, read with a MeterListener.</summary>
public sealed class MetricsTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Enqueue_run_and_wait_measurements_are_recorded_with_task_and_queue_tags()
    {
        var seen = new ConcurrentBag<(string Instrument, double Value, string? Task, string? Queue)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Diagnostics.TaskTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, double v, ReadOnlySpan<System.Collections.Generic.KeyValuePair<string, object?>> tags)
        {
            string? task = null, queue = null;
            foreach (var (key, value) in tags)
            {
                task = key == "typedtasks.task.name" ? (string?)value : task;
                queue = key == "messaging.destination.name" ? (string?)value : queue;
            }

            seen.Add((i.Name, v, task, queue));
        }

        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();

        await using var host = await RedisHost.StartAsync(redis.Server.Endpoint, worker: w => w.Queues = ["metrics"]);
        var squares = await Tasks.Square.WithClient(host.Client).EnqueueManyAsync([1, 2, 3]);
        Assert.Equal(new[] { 1, 4, 9 }, await Task.WhenAll(squares.Select(s => s.GetAsync(RedisHost.Wait))));
        await Task.Delay(200);

        var mine = seen.Where(m => m.Task == "it.metrics").ToList();
        Assert.Equal(3, mine.Where(m => m.Instrument == "typedtasks.tasks.enqueued").Sum(m => m.Value));
        Assert.Equal(3, mine.Where(m => m.Instrument == "typedtasks.tasks.started").Sum(m => m.Value));
        Assert.Equal(3, mine.Where(m => m.Instrument == "typedtasks.tasks.succeeded").Sum(m => m.Value));
        Assert.Equal(3, mine.Count(m => m.Instrument == "typedtasks.task.duration"));
        Assert.Equal(3, mine.Count(m => m.Instrument == "typedtasks.task.queue_wait"));
        Assert.All(mine, m => Assert.Equal("metrics", m.Queue));
    }
}

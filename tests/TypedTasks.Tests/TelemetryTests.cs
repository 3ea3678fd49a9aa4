using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Diagnostics;

namespace TypedTasks.Tests;

/// <summary>
/// Metrics on the TypedTasks meter and spans on the TypedTasks activity source, read with a
/// MeterListener and an ActivityListener. The tasks and queue are this test's own.
/// </summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Counters_histograms_and_linked_producer_and_consumer_spans_are_emitted()
    {
        var measurements = new ConcurrentBag<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == TaskTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Add((i.Name, v, ToDictionary(tags))));
        meters.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Add((i.Name, v, ToDictionary(tags))));
        meters.Start();

        var spans = new ConcurrentBag<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TaskTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(activities);

        await using var host = await TestHost.StartAsync(w => w.Queues = ["telemetry"]);
        var ok = await Tasks.Double.WithClient(host.Client).EnqueueAsync(21);
        var ok2 = await Tasks.Double.WithClient(host.Client).EnqueueAsync(4);
        var fail = await Tasks.AlwaysFails.WithClient(host.Client).EnqueueAsync();
        Assert.Equal(42, await ok.GetAsync(TestHost.Wait));
        Assert.Equal(8, await ok2.GetAsync(TestHost.Wait));
        await Assert.ThrowsAsync<TaskFailedException>(() => fail.GetAsync(TestHost.Wait));
        await Task.Delay(200); // the last counters are recorded after the final state is stored

        double Sum(string instrument, string task) => measurements
            .Where(m => m.Instrument == instrument && (string?)m.Tags.GetValueOrDefault("typedtasks.task.name") == task)
            .Sum(m => m.Value);
        int Count(string instrument, string task) => measurements
            .Count(m => m.Instrument == instrument && (string?)m.Tags.GetValueOrDefault("typedtasks.task.name") == task);

        Assert.Equal(2, Sum("typedtasks.tasks.enqueued", "tests.telemetry-ok"));
        Assert.Equal(2, Sum("typedtasks.tasks.started", "tests.telemetry-ok"));
        Assert.Equal(2, Sum("typedtasks.tasks.succeeded", "tests.telemetry-ok"));
        Assert.Equal(2, Count("typedtasks.task.duration", "tests.telemetry-ok"));
        Assert.Equal(2, Count("typedtasks.task.queue_wait", "tests.telemetry-ok"));
        Assert.Equal(1, Sum("typedtasks.tasks.enqueued", "tests.telemetry-fail"));
        Assert.Equal(2, Sum("typedtasks.tasks.started", "tests.telemetry-fail"));
        Assert.Equal(1, Sum("typedtasks.tasks.retried", "tests.telemetry-fail"));
        Assert.Equal(1, Sum("typedtasks.tasks.failed", "tests.telemetry-fail"));
        Assert.Contains(measurements, m => m.Instrument == "typedtasks.tasks.dead_lettered" && (string?)m.Tags["messaging.destination.name"] == "telemetry");
        Assert.All(measurements.Where(m => (string?)m.Tags.GetValueOrDefault("typedtasks.task.name") == "tests.telemetry-ok"), m =>
        {
            Assert.Equal("telemetry", m.Tags["messaging.destination.name"]);
            Assert.Equal("typedtasks", m.Tags["messaging.system"]);
        });

        var producer = Assert.Single(spans, s => s.Kind == ActivityKind.Producer && (string?)s.GetTagItem("messaging.message.id") == ok.Id);
        var consumer = Assert.Single(spans, s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("messaging.message.id") == ok.Id);
        Assert.Equal("send tests.telemetry-ok", producer.DisplayName);
        Assert.Equal("process tests.telemetry-ok", consumer.DisplayName);
        Assert.Equal(producer.TraceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Ok, consumer.Status);

        var failed = spans.Where(s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("messaging.message.id") == fail.Id).ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, s => Assert.Equal(ActivityStatusCode.Error, s.Status));
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            result[key] = value;
        }

        return result;
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedTasks.Diagnostics;

/// <summary>
/// The <see cref="Meter"/> and <see cref="ActivitySource"/> named <c>TypedTasks</c>. Instruments are
/// tagged with the task name and the queue, using OpenTelemetry's messaging attribute names where
/// they fit (<c>messaging.system</c>, <c>messaging.destination.name</c>, <c>messaging.operation.name</c>).
/// </summary>
public static class TaskTelemetry
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "TypedTasks";

    /// <summary>The W3C trace-context header carried in an envelope's headers.</summary>
    public const string TraceParentHeader = "traceparent";

    /// <summary>The W3C trace-state header carried in an envelope's headers.</summary>
    public const string TraceStateHeader = "tracestate";

    internal const string TaskNameTag = "typedtasks.task.name";
    internal const string QueueTag = "messaging.destination.name";
    internal const string SystemTag = "messaging.system";
    internal const string OperationTag = "messaging.operation.name";
    internal const string MessageIdTag = "messaging.message.id";

    private static readonly string? Version = typeof(TaskTelemetry).Assembly.GetName().Version?.ToString(3);

    internal static readonly ActivitySource Source = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly Counter<long> Enqueued = Meter.CreateCounter<long>("typedtasks.tasks.enqueued", "{task}", "Tasks sent to a broker.");
    internal static readonly Counter<long> Started = Meter.CreateCounter<long>("typedtasks.tasks.started", "{task}", "Runs started by a worker.");
    internal static readonly Counter<long> Succeeded = Meter.CreateCounter<long>("typedtasks.tasks.succeeded", "{task}", "Runs that succeeded.");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("typedtasks.tasks.failed", "{task}", "Tasks that failed for good.");
    internal static readonly Counter<long> Retried = Meter.CreateCounter<long>("typedtasks.tasks.retried", "{task}", "Failed runs scheduled to run again.");
    internal static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("typedtasks.tasks.dead_lettered", "{task}", "Tasks that ended Failed, kept in their queue's failed (dead) tasks: failed for good, or unable to run.");
    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("typedtasks.task.duration", "s", "How long a run took.");
    internal static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("typedtasks.task.queue_wait", "s", "From enqueue (or due time) to the start of a run.");

    internal static TagList Tags(string taskName, string queue) => new()
    {
        { SystemTag, "typedtasks" },
        { TaskNameTag, taskName },
        { QueueTag, queue },
    };

    /// <summary>Adds <paramref name="by"/> to <paramref name="counter"/>, tagged with the task and its queue, when anybody listens to it.</summary>
    internal static void Count(Counter<long> counter, string taskName, string queue, long by = 1)
    {
        if (counter.Enabled)
        {
            counter.Add(by, Tags(taskName, queue));
        }
    }

    /// <summary>Records <paramref name="value"/> in <paramref name="histogram"/>, tagged with the task and its queue, when anybody listens to it.</summary>
    internal static void Record(Histogram<double> histogram, double value, string taskName, string queue)
    {
        if (histogram.Enabled)
        {
            histogram.Record(value, Tags(taskName, queue));
        }
    }

    /// <summary>Starts the producer span of an enqueue, and the trace headers to carry (null when nobody listens).</summary>
    internal static (Activity? Activity, Dictionary<string, string>? Headers) StartSend(string taskName, string queue, string? id)
    {
        // Nobody listening (the usual case): no span's name is made for every task sent.
        if (!Source.HasListeners())
        {
            return (null, null);
        }

        var activity = Source.StartActivity($"send {taskName}", ActivityKind.Producer);
        if (activity is null)
        {
            return (null, null);
        }

        activity.SetTag(SystemTag, "typedtasks");
        activity.SetTag(OperationTag, "send");
        activity.SetTag(QueueTag, queue);
        activity.SetTag(TaskNameTag, taskName);
        if (id is not null)
        {
            // Known before the send only when chosen; otherwise the store makes it and it is tagged after.
            activity.SetTag(MessageIdTag, id);
        }
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { [TraceParentHeader] = activity.Id! };
        if (activity.TraceStateString is { Length: > 0 } state)
        {
            headers[TraceStateHeader] = state;
        }

        return (activity, headers);
    }

    /// <summary>Starts the consumer span of a run, a child of the producer span carried in the headers.</summary>
    internal static Activity? StartProcess(string taskName, string queue, string id, int attempt, IReadOnlyDictionary<string, string>? headers)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        if (headers is not null && headers.TryGetValue(TraceParentHeader, out var traceParent))
        {
            headers.TryGetValue(TraceStateHeader, out var traceState);
            _ = ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent);
        }

        var activity = Source.StartActivity($"process {taskName}", ActivityKind.Consumer, parent);
        if (activity is not null)
        {
            activity.SetTag(SystemTag, "typedtasks");
            activity.SetTag(OperationTag, "process");
            activity.SetTag(QueueTag, queue);
            activity.SetTag(TaskNameTag, taskName);
            activity.SetTag(MessageIdTag, id);
            activity.SetTag("typedtasks.task.attempt", attempt);
        }

        return activity;
    }
}

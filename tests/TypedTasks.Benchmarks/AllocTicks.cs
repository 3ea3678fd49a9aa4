using System;
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Linq;

namespace TypedTasks.Benchmarks;

/// <summary>
/// What a producer allocates, by type, from the runtime's allocation ticks (one every 100 KB or
/// so, in this process, no tool attached): <c>ALLOC_TICKS=1</c> on an S1-user producer writes
/// the types that took most per task to standard error. A sample, not a count.
/// </summary>
internal sealed class AllocTicks : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _on;

    /// <summary>Counts from now on.</summary>
    public void Start() => _on = true;

    /// <summary>Stops counting; the types that took most, in bytes per task of <paramref name="tasks"/>.</summary>
    public string Stop(int tasks)
    {
        _on = false;
        return string.Join("\n", _bytes.OrderByDescending(kv => kv.Value).Take(40).Select(kv => $"{kv.Value / (double)tasks,8:0.0} B/task {kv.Key}"));
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_on || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var type = payload[names.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(payload[names.IndexOf("AllocationAmount64")], System.Globalization.CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}

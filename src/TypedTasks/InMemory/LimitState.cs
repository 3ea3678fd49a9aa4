using System;
using System.Collections.Generic;

namespace TypedTasks.InMemory;

/// <summary>
/// One rate or concurrency limit of a queue of an <see cref="InMemoryTaskStore"/>: what it counts
/// and the tasks it holds back; used under the store's lock only.
/// </summary>
internal sealed class LimitState(string key, bool isRate)
{
    public string Key { get; } = key;

    public bool IsRate { get; } = isRate;

    /// <summary>As the last task checked against it carried.</summary>
    public int Count { get; set; }

    /// <summary>The rate window; null for a concurrency limit.</summary>
    public TimeSpan? Per { get; set; }

    /// <summary>Concurrency: the runs it counts (leased tasks that took a slot).</summary>
    public HashSet<TaskRecord> Running { get; } = [];

    /// <summary>Rate: the start times still in the window, oldest first.</summary>
    public Queue<DateTimeOffset> Starts { get; } = new();

    /// <summary>The tasks it holds back, in the order it lets them go.</summary>
    public LinkedList<TaskRecord> Held { get; } = new();

    /// <summary>Concurrency: when the safety net looks at it next while it holds tasks.</summary>
    public DateTimeOffset NextCheck { get; set; }
}

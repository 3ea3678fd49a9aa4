using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;

namespace TypedTasks.Tests.Scheduling;

/// <summary>
/// A task of the hold tests, on a queue of its own: each run notes, by its label, the time of the
/// tests' clock at which it started and its fire time.
/// </summary>
public static class FireTimeTasks
{
    public const string Queue = "fire-time-tests";

    /// <summary>The clock the runs read their start time from (the test's fake clock).</summary>
    public static TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The start time and fire time of each run, by label.</summary>
    public static readonly ConcurrentDictionary<string, (DateTimeOffset StartedAt, DateTimeOffset? ScheduledFor)> Runs = new();

    [Task("tests.fire-time.note", Queue = Queue)]
    public static void Note(string label, TaskContext context) => Runs[label] = (Clock.GetUtcNow(), context.ScheduledFor);
}

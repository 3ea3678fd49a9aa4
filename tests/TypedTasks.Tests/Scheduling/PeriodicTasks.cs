using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Tests.Scheduling;

/// <summary>
/// Periodic tasks of the tests, on queues of their own: no other test host serves them, so they
/// fire only in the tests that ask for them.
/// </summary>
public static class PeriodicTasks
{
    public const string Queue = "periodic-tests";

    /// <summary>The fire times each run saw, by run id.</summary>
    public static readonly ConcurrentDictionary<string, DateTimeOffset?> Runs = new();

    /// <summary>The arguments dynamic schedules ran with.</summary>
    public static readonly ConcurrentQueue<(string Label, DateTimeOffset? ScheduledFor)> Reports = new();

    [Task("tests.periodic.every-second", Queue = Queue), Periodic("* * * * * *")]
    public static Task EverySecond(TaskContext context, CancellationToken cancellationToken)
    {
        Runs[context.Id] = context.ScheduledFor;
        return Task.CompletedTask;
    }

    [Task("tests.periodic.report", Queue = Queue)]
    public static void LabelReport(string label, TaskContext context) => Reports.Enqueue((label, context.ScheduledFor));
}

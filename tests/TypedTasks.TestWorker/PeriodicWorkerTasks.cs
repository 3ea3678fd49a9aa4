using System;
using System.Globalization;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.TestWorker;

/// <summary>
/// The periodic task of the schedule fault tests, on a queue of its own (only workers started with
/// <c>--queues periodic</c> fire it). Each run appends "fire time|task id|pid|start time" (times in
/// unix ms) to a Redis list, so that the test counts runs by fire time across processes and
/// measures how late each started.
/// </summary>
public static class PeriodicWorkerTasks
{
    public const string Queue = "periodic";

    /// <summary>The list runs are logged to (set by the worker process at start), and its key.</summary>
    public static (IDatabase Database, string Key)? RunLog { get; set; }

    [Task("it.tick", Queue = Queue, MaxRetries = 10, RetryDelay = "00:00:00.500"), Periodic("* * * * * *", Misfire = MisfirePolicy.RunAll)]
    public static async Task Tick(TaskContext context)
    {
        var started = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (RunLog is { } log)
        {
            var at = context.ScheduledFor?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "none";
            await log.Database.ListRightPushAsync(log.Key, string.Create(CultureInfo.InvariantCulture, $"{at}|{context.Id}|{Environment.ProcessId}|{started}"));
        }
    }
}

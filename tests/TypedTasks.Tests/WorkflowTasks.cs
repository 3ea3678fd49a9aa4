using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Workflows;

namespace TypedTasks.Tests;

/// <summary>Tasks the workflow tests compose: numbers in, numbers or text out.</summary>
public static class WorkflowTasks
{
    /// <summary>How many times each callback ran, by a key the test passes.</summary>
    public static ConcurrentDictionary<string, int> Runs { get; } = new();

    /// <summary>The workflow id each run of <see cref="Tag"/> saw, by its value.</summary>
    public static ConcurrentDictionary<int, string?> WorkflowIds { get; } = new();

    /// <summary>Attempts per key of <see cref="FlakyStep"/>.</summary>
    public static ConcurrentDictionary<string, int> Attempts { get; } = new();

    [Task("wf.square")]
    public static int Square(int value) => value * value;

    [Task("wf.describe")]
    public static string Describe(int value, string unit) => $"{value} {unit}";

    [Task("wf.sum")]
    public static int Sum(int[] values) => values.Sum();

    [Task("wf.count-runs")]
    public static int CountRuns(int[] values, string key)
    {
        Runs.AddOrUpdate(key, 1, (_, n) => n + 1);
        return values.Sum();
    }

    [Task("wf.summarize")]
    public static string SummarizeOutcomes(TaskOutcome<int>[] outcomes)
        => string.Join(",", outcomes.Select(o => o.Succeeded ? o.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{o.State}:{o.Error?.Message}"));

    [Task("wf.fail-on")]
    public static int FailOn(int value, int bad) => value == bad ? throw new InvalidOperationException($"value {value} is bad") : value;

    [Task("wf.tag")]
    public static int Tag(int value, TaskContext context)
    {
        WorkflowIds[value] = context.WorkflowId;
        return value;
    }

    [Task("wf.slow")]
    public static async Task<int> Linger(int value, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(value), cancellationToken);
        return value;
    }

    [Task("wf.flaky", MaxRetries = 3, RetryDelay = "00:00:00.010")]
    public static int FlakyStep(int value, string key)
    {
        var attempt = Attempts.AddOrUpdate(key, 1, (_, n) => n + 1);
        return attempt < 3 ? throw new TimeoutException($"attempt {attempt} of {key} timed out") : value;
    }

    /// <summary>What each run of <see cref="Remember"/> was given, by its key.</summary>
    public static ConcurrentDictionary<string, int> Records { get; } = new();

    /// <summary>A step without a result: it ends a chain.</summary>
    [Task("wf.remember")]
    public static void Remember(int value, string key) => Records.AddOrUpdate(key, value, (_, before) => before + value);

    /// <summary>A step with a result that counts its runs in <see cref="Records"/> too.</summary>
    [Task("wf.mark")]
    public static int Mark(int value, string key)
    {
        Records.AddOrUpdate(key, value, (_, before) => before + value);
        return value;
    }

    /// <summary>A task without a result, a group's member: adds <paramref name="value"/> to the key's record; a negative value fails.</summary>
    [Task("wf.send")]
    public static void Send(string key, int value)
    {
        if (value < 0)
        {
            throw new InvalidOperationException($"cannot send {value}");
        }

        Records.AddOrUpdate(key, value, (_, before) => before + value);
    }

    /// <summary>The same as <see cref="Send"/>, returning a <see cref="Task"/>.</summary>
    [Task("wf.send-async")]
    public static async Task SendLaterAsync(string key, int value)
    {
        await Task.Yield();
        Send(key, value);
    }

    /// <summary>The same as <see cref="Send"/>, returning a <see cref="ValueTask"/>.</summary>
    [Task("wf.send-value")]
    public static ValueTask SendValueAsync(string key, int value)
    {
        Send(key, value);
        return ValueTask.CompletedTask;
    }

    /// <summary>A step that takes no previous result: counts its runs and tells what the key's record held when it ran.</summary>
    [Task("wf.after")]
    public static string After(string key, string note)
    {
        Runs.AddOrUpdate(key, 1, (_, n) => n + 1);
        return $"{note}: {(Records.TryGetValue(key, out var value) ? value : 0)}";
    }

    /// <summary>The callback of a settled group whose results are not kept.</summary>
    [Task("wf.tally")]
    public static string Tally(TaskOutcome[] outcomes)
        => string.Join(",", outcomes.Select(o => o.Succeeded ? "ok" : $"{o.State}:{o.Error?.Message}"));

    [Task("wf.other-queue", Queue = "other")]
    public static int OnOtherQueue(int value) => value + 1000;
}

using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Dashboard.Tests;

public static class DashTasks
{
    /// <summary>Keys whose task fails; a key taken off the list lets its retry succeed.</summary>
    public static ConcurrentDictionary<string, bool> Failing { get; } = new();

    [Task("dash.process", Queue = "dash")]
    public static string Process(string key)
        => Failing.ContainsKey(key) ? throw new InvalidOperationException("cannot process " + key) : "processed " + key;

    [Task("dash.sum", Queue = "dash")]
    public static int Sum(int x, int y) => x + y;

    [Task("dash.double", Queue = "dash")]
    public static int Double(int value) => value * 2;

    /// <summary>A chain step that fails for a value over 100: where a workflow stops.</summary>
    [Task("dash.limit", Queue = "dash")]
    public static int Limit(int value) => value > 100 ? throw new InvalidOperationException($"{value} is over 100") : value;

    /// <summary>A task without a result: a group's member whose result is not kept.</summary>
    [Task("dash.notify", Queue = "dash")]
    public static void Notify(string to)
    {
    }

    [Task("dash.total", Queue = "dash")]
    public static int Total(int[] values) => System.Linq.Enumerable.Sum(values);

    /// <summary>Once a year: listed on the schedules page, never fired by a test.</summary>
    [Task("dash.yearly", Queue = "dash"), Periodic("0 0 1 1 *", TimeZone = "Europe/Berlin")]
    public static Task Yearly(TaskContext context, CancellationToken ct) => Task.CompletedTask;

    [Task("dash.waiting", Queue = "dash-big")]
    public static void Waiting(int n)
    {
    }
}

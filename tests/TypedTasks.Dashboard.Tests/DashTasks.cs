using System;
using System.Collections.Concurrent;

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

    [Task("dash.waiting", Queue = "dash-big")]
    public static void Waiting(int n)
    {
    }
}

using System;
using System.Globalization;

namespace TypedTasks.Scheduling;

/// <summary>
/// The task ids fires are enqueued under (<see cref="EnqueueOptions.TaskId"/>): made of the
/// schedule, its generation and the fire time alone, so that every worker that enqueues a fire
/// enqueues the same task, and the store keeps one.
/// </summary>
internal static class FireIds
{
    public static string Fire(string schedule, long generation, DateTimeOffset at)
        => string.Create(CultureInfo.InvariantCulture, $"schedule:{schedule}:{generation}:{at.ToUnixTimeMilliseconds()}");

    public static string Trigger(string schedule, long generation, DateTimeOffset requestedAt)
        => string.Create(CultureInfo.InvariantCulture, $"schedule:{schedule}:{generation}:trigger:{requestedAt.ToUnixTimeMilliseconds()}");
}

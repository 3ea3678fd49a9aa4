using System;
using System.Collections.Generic;

namespace TypedTasks;

/// <summary>Settings of the worker; bound from the <c>TypedTasks:Worker</c> configuration section.</summary>
public sealed class WorkerOptions
{
    /// <summary>How many tasks run at once. Default 16.</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>The queues to serve, in order of preference. Empty (the default) serves <c>"default"</c>.</summary>
    public List<string> Queues { get; set; } = [];

    /// <summary>How many messages are fetched in one round trip and held ready beyond the running ones. Default 16.</summary>
    public int Prefetch { get; set; } = 16;

    /// <summary>
    /// How long a stopping worker lets running tasks finish before it cancels them (they go back
    /// to their queue). Code of a task with a <c>Timeout</c>, and async code, that ignores the
    /// cancellation is then left running and named in the log; the stop does not wait for it.
    /// Synchronous code of a task without a <c>Timeout</c> holds the worker's own thread: the stop
    /// waits for it until the host gives up (<c>HostOptions.ShutdownTimeout</c>), then names it in
    /// the log. Default 20 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);

    internal IReadOnlyList<string> EffectiveQueues => Queues.Count == 0 ? [TaskDefaults.Queue] : Queues;

    internal void Validate()
    {
        if (Concurrency < 1)
        {
            throw new InvalidOperationException($"TypedTasks:Worker:Concurrency must be at least 1 (it is {Concurrency}).");
        }

        if (Prefetch < 1)
        {
            throw new InvalidOperationException($"TypedTasks:Worker:Prefetch must be at least 1 (it is {Prefetch}).");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"TypedTasks:Worker:ShutdownTimeout must not be negative (it is {ShutdownTimeout}).");
        }

        foreach (var queue in Queues)
        {
            if (QueueName.Problem(queue) is { } problem)
            {
                throw new InvalidOperationException($"TypedTasks:Worker:Queues: {problem}. Correct or remove it: the worker serves none of its queues until all are valid.");
            }
        }
    }
}

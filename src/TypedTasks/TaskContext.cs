using System;

namespace TypedTasks;

/// <summary>
/// What a running task may know about its own run. Declare a parameter of this type on a
/// <c>[Task]</c> method and the worker supplies it, like a <see cref="System.Threading.CancellationToken"/>:
/// callers never pass it, and it never travels in the message.
/// </summary>
public sealed class TaskContext
{
    /// <summary>Creates a context; the worker makes one per run, and tests may make their own.</summary>
    public TaskContext(string id, string name, string queue, int attempt, int maxRetries, DateTimeOffset enqueuedAt, DateTimeOffset? scheduledFor = null, string? workflowId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        Id = id;
        Name = name;
        Queue = queue;
        Attempt = attempt;
        MaxRetries = maxRetries;
        EnqueuedAt = enqueuedAt;
        ScheduledFor = scheduledFor;
        WorkflowId = workflowId;
    }

    /// <summary>The task's id, the one its <see cref="AsyncResult"/> carries.</summary>
    public string Id { get; }

    /// <summary>The task's name.</summary>
    public string Name { get; }

    /// <summary>The queue it was taken from.</summary>
    public string Queue { get; }

    /// <summary>The number of this run: 1 on the first, 2 on the first retry, and so on.</summary>
    public int Attempt { get; }

    /// <summary>How many retries the task may have after its first run.</summary>
    public int MaxRetries { get; }

    /// <summary>When the producer enqueued it.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>The fire time of a periodic run; null for a task not sent by a schedule.</summary>
    public DateTimeOffset? ScheduledFor { get; }

    /// <summary>The id of the workflow this task is a step or member of; null for a task on its own.</summary>
    public string? WorkflowId { get; }

    /// <summary>Whether this run is the last the task may have: a failure now is final.</summary>
    public bool IsLastAttempt => Attempt > MaxRetries;
}

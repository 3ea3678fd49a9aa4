using System;

namespace TypedTasks;

/// <summary>Options for one enqueue, given through <c>Tasks.X.With(options)</c>.</summary>
public sealed record EnqueueOptions
{
    /// <summary>Run no sooner than this long after the enqueue (Celery's <c>countdown</c>).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Run no sooner than this moment (Celery's <c>eta</c>). Wins over <see cref="Delay"/>.</summary>
    public DateTimeOffset? Eta { get; init; }

    /// <summary>End <see cref="TaskState.Expired"/> unless started within this long of the enqueue.</summary>
    public TimeSpan? Expires { get; init; }

    /// <summary>End <see cref="TaskState.Expired"/> unless started by this moment. Wins over <see cref="Expires"/>.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The queue, instead of the task's own: 1 to 200 characters without white space, braces or '@'.</summary>
    public string? Queue { get; init; }

    /// <summary>Priority from 0 (default) to <see cref="TaskDefaults.MaxPriority"/>; higher is served first within a queue.</summary>
    public int Priority { get; init; }

    /// <summary>
    /// The task id to use instead of a new one: not blank, at most <see cref="MaxTaskIdLength"/>
    /// characters. A task enqueued again under the id of one that has ended does not run again.
    /// </summary>
    public string? TaskId { get; init; }

    /// <summary>The longest <see cref="TaskId"/> accepted.</summary>
    public const int MaxTaskIdLength = 512;
}

using System;

namespace TypedTasks.Celery;

/// <summary>Per-call options of a Celery enqueue: Celery's <c>apply_async</c> countdown, eta, expires, queue and task_id.</summary>
public sealed record CeleryEnqueueOptions
{
    /// <summary>Runs the task no sooner than this long from now (Celery's <c>countdown</c>).</summary>
    public TimeSpan? Countdown { get; init; }

    /// <summary>Runs the task no sooner than this time (Celery's <c>eta</c>); wins over <see cref="Countdown"/>.</summary>
    public DateTimeOffset? Eta { get; init; }

    /// <summary>A task not started this long after the enqueue is revoked unrun (Celery's <c>expires</c>).</summary>
    public TimeSpan? Expires { get; init; }

    /// <summary>The queue to send to instead of the declared one.</summary>
    public string? Queue { get; init; }

    /// <summary>The task id to use instead of a new UUID.</summary>
    public string? TaskId { get; init; }
}

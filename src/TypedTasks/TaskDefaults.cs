using System;

namespace TypedTasks;

/// <summary>Defaults shared by the attribute, the client and the worker.</summary>
public static class TaskDefaults
{
    /// <summary>The queue of a task that names none.</summary>
    public const string Queue = "default";

    /// <summary>The first retry delay of a task that names none.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>The longest delay between two retries, whatever the backoff has grown to.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(1);

    /// <summary>How long a result is kept (Celery's <c>result_expires</c> default of one day).</summary>
    public static readonly TimeSpan ResultTtl = TimeSpan.FromDays(1);

    /// <summary>The highest priority level; levels run from 0 (the default) to this, higher served first.</summary>
    public const int MaxPriority = 9;
}

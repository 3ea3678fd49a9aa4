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

    /// <summary>
    /// The largest message a client sends by default: 4 MiB. Each message is held whole in Redis and
    /// in every worker that prefetches it (up to Concurrency + Prefetch, 32 by default, so about
    /// 128 MiB at this size); data larger than this belongs in a store the task reads by reference.
    /// </summary>
    public const int MaxMessageSize = 4 * 1024 * 1024;

    /// <summary>The highest priority level; levels run from 0 (the default) to this, higher served first.</summary>
    public const int MaxPriority = 9;
}

using System;

namespace TypedTasks;

/// <summary>
/// Marks a method as a task: the TypedTasks generator emits a typed proxy for it
/// (<c>Tasks.MethodName.EnqueueAsync(...)</c>) and an entry in the worker's dispatch table.
/// </summary>
/// <remarks>
/// Time values are strings in <see cref="TimeSpan"/>'s invariant form (<c>"00:02:00"</c>,
/// <c>"00:00:00.250"</c>); the generator checks them at compile time.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TaskAttribute : Attribute
{
    /// <summary>Marks a task whose name is <c>Namespace.Type.Method</c>.</summary>
    public TaskAttribute()
    {
    }

    /// <summary>Marks a task with an explicit, stable name carried on the wire.</summary>
    /// <param name="name">The task name, such as <c>"reports.build"</c>.</param>
    public TaskAttribute(string name) => Name = name;

    /// <summary>The task name carried on the wire; <see langword="null"/> for the default form.</summary>
    public string? Name { get; }

    /// <summary>The queue the task goes to unless an enqueue says otherwise. Default <c>"default"</c>.</summary>
    public string Queue { get; set; } = TaskDefaults.Queue;

    /// <summary>How many times a failed run is retried before the task ends <see cref="TaskState.Failed"/>. Default 0.</summary>
    public int MaxRetries { get; set; }

    /// <summary>The longest a run may take before it fails, as a TimeSpan string. Default: no limit.</summary>
    public string? Timeout { get; set; }

    /// <summary>The first delay of the exponential backoff between retries, as a TimeSpan string. Default 00:00:02.</summary>
    public string? RetryDelay { get; set; }

    /// <summary>How long after its enqueue a task that has not started ends <see cref="TaskState.Expired"/>, as a TimeSpan string.</summary>
    public string? Expires { get; set; }

    /// <summary>
    /// Makes the task unique for this long at most, as a TimeSpan string: while a task enqueued
    /// with the same arguments (those of <see cref="UniqueBy"/>) is pending, scheduled or running,
    /// another enqueue sends nothing and returns that task's handle (same id). Default: not unique.
    /// </summary>
    public string? UniqueFor { get; set; }

    /// <summary>
    /// The names of the parameters that make two enqueues the same task (with <see cref="UniqueFor"/>);
    /// empty or unset: all carried arguments.
    /// </summary>
    public string[]? UniqueBy { get; set; }

    /// <summary>
    /// At most this many runs of the task start per second, minute or hour, across every worker:
    /// <c>"100/s"</c>, <c>"20/m"</c>, <c>"500/h"</c> (per <see cref="RateLimitKey"/> value when set).
    /// A task held back waits Pending without holding a worker or the tasks behind it. Default: no limit.
    /// </summary>
    public string? RateLimit { get; set; }

    /// <summary>The name of the parameter whose value the <see cref="RateLimit"/> counts separately (one limit per tenant, say).</summary>
    public string? RateLimitKey { get; set; }

    /// <summary>
    /// At most this many runs of the task at once, across every worker (per
    /// <see cref="ConcurrencyKey"/> value when set); 0: no limit. A task held back waits Pending
    /// without holding a worker or the tasks behind it, and starts when a run ends or its lease
    /// expires (its worker was killed).
    /// </summary>
    public int MaxConcurrency { get; set; }

    /// <summary>The name of the parameter whose value <see cref="MaxConcurrency"/> counts separately.</summary>
    public string? ConcurrencyKey { get; set; }

    /// <summary>The name of the generated proxy (<c>Tasks.ProxyName</c>); defaults to the method name.</summary>
    public string? ProxyName { get; set; }
}

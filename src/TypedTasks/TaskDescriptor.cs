using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace TypedTasks;

/// <summary>
/// What the worker and the client know of one task: its wire name, routing, retry and time
/// settings, and the generated method that runs it. One instance per task, created by generated code.
/// </summary>
public sealed class TaskDescriptor
{
    /// <summary>Creates a descriptor; called by generated code.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TaskDescriptor(
        string name,
        string queue,
        int maxRetries,
        TimeSpan? timeout,
        TimeSpan? retryDelay,
        TimeSpan? expires,
        TaskInvoker invoker)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        ArgumentNullException.ThrowIfNull(invoker);
        Name = name;
        Queue = queue;
        MaxRetries = maxRetries;
        Timeout = timeout;
        RetryDelay = retryDelay ?? TaskDefaults.RetryDelay;
        Expires = expires;
        Invoker = invoker;
    }

    /// <summary>The stable name carried on the wire.</summary>
    public string Name { get; }

    /// <summary>The queue the task goes to unless an enqueue says otherwise.</summary>
    public string Queue { get; }

    /// <summary>How many times a failed run is retried.</summary>
    public int MaxRetries { get; }

    /// <summary>The longest a run may take; null for no limit.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>The first delay of the exponential backoff between retries.</summary>
    public TimeSpan RetryDelay { get; }

    /// <summary>How long after its enqueue an unstarted task expires; null for never.</summary>
    public TimeSpan? Expires { get; }

    /// <summary>
    /// The names of the arguments a caller supplies, in the order the message carries them, so that
    /// tools can show a task's arguments by name. Null when the code that made this descriptor
    /// predates the names (an assembly built with an older generator): tools show positions then.
    /// </summary>
    public IReadOnlyList<string>? ParameterNames { get; init; }

    /// <summary>
    /// The schedule of a <see cref="PeriodicAttribute"/> task, or null. Workers serving the task's
    /// queue keep it in the store as the schedule named after the task, and fire it.
    /// </summary>
    public PeriodicSpec? Periodic { get; init; }

    /// <summary>
    /// How long at most an enqueue of this task with the same <see cref="UniqueBy"/> arguments
    /// returns the first task instead of sending another; null: not unique.
    /// </summary>
    public TimeSpan? UniqueFor { get; init; }

    /// <summary>
    /// The positions, among the arguments the message carries, of those that make two enqueues
    /// the same task; empty: all of them. Used only with <see cref="UniqueFor"/>.
    /// </summary>
    public IReadOnlyList<int> UniqueBy { get; init; } = [];

    /// <summary>How many runs of the task may start per <see cref="RatePer"/> across all workers (<see cref="TaskAttribute.RateLimit"/>); 0: no rate limit.</summary>
    public int RateCount { get; init; }

    /// <summary>The window of <see cref="RateCount"/> (a second, a minute or an hour), or null.</summary>
    public TimeSpan? RatePer { get; init; }

    /// <summary>The position, among the arguments the message carries, of the one the rate limit counts separately (<see cref="TaskAttribute.RateLimitKey"/>), or null.</summary>
    public int? RateLimitKey { get; init; }

    /// <summary>How many runs of the task may run at once across all workers (<see cref="TaskAttribute.MaxConcurrency"/>); 0: no limit.</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>The position, among the arguments the message carries, of the one the concurrency limit counts separately (<see cref="TaskAttribute.ConcurrencyKey"/>), or null.</summary>
    public int? ConcurrencyKey { get; init; }

    /// <summary>The generated method that runs the task.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TaskInvoker Invoker { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

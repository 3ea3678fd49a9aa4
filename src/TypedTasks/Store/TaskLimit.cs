using System;

namespace TypedTasks.Store;

/// <summary>
/// A limit a task starts under, counted across every worker for the tasks of one queue that carry
/// the same <see cref="Key"/>: with <see cref="Per"/> null, at most <see cref="Count"/> of them run
/// at once (a concurrency limit); with a <see cref="Per"/>, at most <see cref="Count"/> of them
/// start in any window of that length (a rate limit). A task a limit holds back stays Pending
/// without holding a worker or the tasks behind it, and starts as soon as the limit lets it.
/// </summary>
/// <param name="Key">What the limit counts: the task's name, then, for a limit per key, <c>|</c>, the key parameter's name, <c>=</c> and its value.</param>
/// <param name="Count">How many at once, or per window; at least 1.</param>
/// <param name="Per">The rate limit's window (1 ms to 1 day), or null for a concurrency limit.</param>
public readonly record struct TaskLimit(string Key, int Count, TimeSpan? Per = null)
{
    /// <summary>The longest limit key a store takes.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>True for a concurrency limit (no window).</summary>
    public bool IsConcurrency => Per is null;

    /// <summary>Why this limit cannot be stored, or null.</summary>
    internal string? Problem => this switch
    {
        { Key: null or { Length: 0 } } => "has a limit with no key",
        { Key.Length: > MaxKeyLength } => $"has a limit key of {Key.Length} characters; a limit key has 1 to {MaxKeyLength}",
        { Count: < 1 } => $"has a limit of {Count} for '{Key}'; a limit is at least 1",
        { Per: { } per } when per < TimeSpan.FromMilliseconds(1) || per > TimeSpan.FromDays(1) => $"has a rate window of {per} for '{Key}'; a window is 1 ms to 1 day",
        _ => null,
    };
}

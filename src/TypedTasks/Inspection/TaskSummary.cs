using System;

namespace TypedTasks.Inspection;

/// <summary>One task in a page of a queue, as tools list it.</summary>
public record TaskSummary
{
    /// <summary>The task's id, as the store made it.</summary>
    public required string Id { get; init; }

    /// <summary>The task's name; "?" when its message cannot be read.</summary>
    public required string TaskName { get; init; }

    /// <summary>Its state.</summary>
    public required TaskState State { get; init; }

    /// <summary>The number of the current or last run, from 1; 0 before the first.</summary>
    public required int Attempt { get; init; }

    /// <summary>When its state was last written.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Its queue.</summary>
    public required string Queue { get; init; }

    /// <summary>Its priority, 0 to <see cref="TaskDefaults.MaxPriority"/>.</summary>
    public required int Priority { get; init; }

    /// <summary>When a scheduled or retrying task is due, or when a running task's lease ends; null otherwise.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>The full type name of the exception of a failed or retrying task.</summary>
    public string? ErrorType { get; init; }

    /// <summary>The message of that exception.</summary>
    public string? ErrorMessage { get; init; }
}

using System;
using System.Collections.Generic;

namespace TypedTasks.Inspection;

/// <summary>Everything the store keeps of one task, readable by people: arguments and result as JSON.</summary>
public sealed record TaskDetails : TaskSummary
{
    /// <summary>
    /// The arguments as JSON: an object keyed by parameter name when this process knows the task
    /// (<see cref="ArgumentsNamed"/>), else an array in parameter order. Values nested deeper than
    /// 64 levels are shown as a marker. Null when the store no longer keeps the message (after
    /// success) or it cannot be read (<see cref="EnvelopeProblem"/>).
    /// </summary>
    public string? Arguments { get; init; }

    /// <summary>True when <see cref="Arguments"/> is an object keyed by parameter name.</summary>
    public bool ArgumentsNamed { get; init; }

    /// <summary>When the task was enqueued; null when the message is gone or unreadable.</summary>
    public DateTimeOffset? EnqueuedAt { get; init; }

    /// <summary>The earliest time it was to run (a delay or ETA), if one was given.</summary>
    public DateTimeOffset? Eta { get; init; }

    /// <summary>When it expires unless started, if it does.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The headers its message carries (trace context and the like).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The result of a succeeded task as JSON; null for another state or a task without a result.</summary>
    public string? Result { get; init; }

    /// <summary>The stack trace of the error, inner exceptions included, as the worker recorded it.</summary>
    public string? ErrorStackTrace { get; init; }

    /// <summary>The worker (<c>host:pid</c>) of the current or last run; null before any run.</summary>
    public string? Worker { get; init; }

    /// <summary>How many bytes the stored message has; 0 when the store no longer keeps it.</summary>
    public int EnvelopeSize { get; init; }

    /// <summary>Why the stored message cannot be read as a task (a foreign or broken producer); null when it can, or is gone.</summary>
    public string? EnvelopeProblem { get; init; }
}

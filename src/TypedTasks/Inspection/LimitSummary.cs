using System;

namespace TypedTasks.Inspection;

/// <summary>A rate or concurrency limit of a queue in use, as tools show it (<see cref="ITaskInspector.GetLimitsAsync"/>).</summary>
public sealed record LimitSummary
{
    /// <summary>The queue whose tasks it counts.</summary>
    public required string Queue { get; init; }

    /// <summary>The limit's key: the task's name, then, for a limit per key, <c>|</c>, the key parameter and its value.</summary>
    public required string Key { get; init; }

    /// <summary>The task's name (the key up to <c>|</c>).</summary>
    public string Task => Key.IndexOf('|', StringComparison.Ordinal) is var bar and >= 0 ? Key[..bar] : Key;

    /// <summary>The key parameter and its value (<c>tenant="acme"</c>), or null for a limit of the whole task.</summary>
    public string? PerKey => Key.IndexOf('|', StringComparison.Ordinal) is var bar and >= 0 ? Key[(bar + 1)..] : null;

    /// <summary>What it counts.</summary>
    public required LimitKind Kind { get; init; }

    /// <summary>How many at once (concurrency) or per <see cref="Per"/> (rate).</summary>
    public required int Count { get; init; }

    /// <summary>The rate window, or null for a concurrency limit.</summary>
    public TimeSpan? Per { get; init; }

    /// <summary>Concurrency: its tasks running now; rate: its starts in the current window.</summary>
    public required long Active { get; init; }

    /// <summary>How many of its tasks wait for it (Pending, held back).</summary>
    public required long Held { get; init; }
}

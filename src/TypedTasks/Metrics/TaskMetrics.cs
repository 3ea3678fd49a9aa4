using System;

namespace TypedTasks.Metrics;

/// <summary>
/// What one task's runs did in one interval (a minute, or ten minutes for older figures), summed
/// over every worker: how many ended, how many of those failed (a failure that is retried counts
/// too), and how long they took.
/// </summary>
public sealed record TaskMetrics
{
    /// <summary>The task's name.</summary>
    public required string TaskName { get; init; }

    /// <summary>The start of the interval (UTC, on a multiple of <see cref="Resolution"/>).</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>The interval's length: <see cref="MetricsRetention.Fine"/> or <see cref="MetricsRetention.Coarse"/>.</summary>
    public required TimeSpan Resolution { get; init; }

    /// <summary>Runs that ended in the interval, whatever their outcome.</summary>
    public required long Runs { get; init; }

    /// <summary>Runs that ended with an error or a timeout, retried or not.</summary>
    public required long Failures { get; init; }

    /// <summary>How long the runs took, from their start on the worker to their end.</summary>
    public required LatencyHistogram Latency { get; init; }
}

using System;

namespace TypedTasks.Metrics;

/// <summary>
/// How finely and how long task metrics are kept: by the minute for <see cref="FineKept"/>, by ten
/// minutes for <see cref="CoarseKept"/>. Both bound what the store holds, whatever the traffic.
/// </summary>
public static class MetricsRetention
{
    /// <summary>One minute.</summary>
    public static readonly TimeSpan Fine = TimeSpan.FromMinutes(1);

    /// <summary>Ten minutes.</summary>
    public static readonly TimeSpan Coarse = TimeSpan.FromMinutes(10);

    /// <summary>Minute figures are kept six hours.</summary>
    public static readonly TimeSpan FineKept = TimeSpan.FromHours(6);

    /// <summary>Ten-minute figures are kept seven days.</summary>
    public static readonly TimeSpan CoarseKept = TimeSpan.FromDays(7);

    /// <summary>The start of the interval of <paramref name="resolution"/> that holds <paramref name="time"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset time, TimeSpan resolution)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % resolution.Ticks), TimeSpan.Zero);
    }

    /// <summary>How long figures of <paramref name="resolution"/> are kept; throws for a resolution the store does not keep.</summary>
    public static TimeSpan KeptFor(TimeSpan resolution)
        => resolution == Fine ? FineKept
            : resolution == Coarse ? CoarseKept
            : throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "Task metrics are kept by the minute (MetricsRetention.Fine) or by ten minutes (MetricsRetention.Coarse).");
}

using System;

namespace TypedTasks.Scheduling;

/// <summary>How a schedule made with <see cref="ITaskSchedules.UpsertAsync"/> fires.</summary>
public sealed record ScheduleOptions
{
    /// <summary>
    /// How late a fire time may be seen and still run as usual (5 seconds); older ones are missed
    /// and follow <see cref="Misfire"/>. The same for every schedule: read-only, not an option of one.
    /// </summary>
    public static TimeSpan MisfireThreshold { get; } = TimeSpan.FromSeconds(5);

    /// <summary>What to do with fire times missed while no worker ran. Default <see cref="MisfirePolicy.RunOnce"/>.</summary>
    public MisfirePolicy Misfire { get; init; }

    /// <summary>What to do at a fire time while the previous run is not final. Default <see cref="OverlapPolicy.Allow"/>.</summary>
    public OverlapPolicy Overlap { get; init; }
}

using System;

namespace TypedTasks.Scheduling;

/// <summary>How a schedule made with <c>ITaskSchedules.UpsertAsync</c> fires.</summary>
public sealed record ScheduleOptions
{
    /// <summary>How late a fire time may be seen and still run as usual; older ones are missed (<see cref="Misfire"/>).</summary>
    public const int MisfireThresholdSeconds = 5;

    /// <summary>How late a fire time may be seen and still run as usual: <see cref="MisfireThresholdSeconds"/> seconds.</summary>
    public static TimeSpan MisfireThreshold { get; } = TimeSpan.FromSeconds(MisfireThresholdSeconds);

    /// <summary>What to do with fire times missed while no worker ran. Default <see cref="MisfirePolicy.RunOnce"/>.</summary>
    public MisfirePolicy Misfire { get; init; }

    /// <summary>What to do at a fire time while the previous run is not final. Default <see cref="OverlapPolicy.Allow"/>.</summary>
    public OverlapPolicy Overlap { get; init; }

    /// <summary>Whether the schedule starts paused (it keeps its place, and fires nothing until resumed).</summary>
    public bool Paused { get; init; }
}

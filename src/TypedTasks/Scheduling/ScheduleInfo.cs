using System;
using System.Collections.Generic;

namespace TypedTasks.Scheduling;

/// <summary>A schedule as <see cref="ITaskSchedules"/> and the inspector show it.</summary>
public sealed record ScheduleInfo
{
    /// <summary>The schedule's name; a <see cref="PeriodicAttribute"/> task's schedule is named after the task.</summary>
    public required string Name { get; init; }

    /// <summary>The name of the task it fires.</summary>
    public required string TaskName { get; init; }

    /// <summary>The queue its runs go to; workers serving it fire the schedule.</summary>
    public required string Queue { get; init; }

    /// <summary>The cron expression.</summary>
    public required string Cron { get; init; }

    /// <summary>The zone id the expression is read in.</summary>
    public required string TimeZone { get; init; }

    /// <summary>What it does with missed fire times.</summary>
    public MisfirePolicy Misfire { get; init; }

    /// <summary>What it does while the previous run is not final.</summary>
    public OverlapPolicy Overlap { get; init; }

    /// <summary>Whether it comes from a <see cref="PeriodicAttribute"/> rather than <see cref="ITaskSchedules.UpsertAsync"/>.</summary>
    public bool Declared { get; init; }

    /// <summary>
    /// Whether the store holds it. A <see cref="PeriodicAttribute"/> task of this application that
    /// no worker has stored yet is listed with false (no worker serving its queue has started).
    /// </summary>
    public bool Stored { get; init; } = true;

    /// <summary>Whether firing is paused.</summary>
    public bool Paused { get; init; }

    /// <summary>1 when made, one more at each change of what it fires or when.</summary>
    public long Generation { get; init; }

    /// <summary>
    /// The next fire time not yet enqueued (in UTC), or null when the expression has no more. For a
    /// paused schedule, the first one it would fire if resumed now: resuming skips the times that passed.
    /// </summary>
    public DateTimeOffset? NextFireAt { get; init; }

    /// <summary>The next few fire times (up to five, in UTC), from <see cref="NextFireAt"/> on.</summary>
    public IReadOnlyList<DateTimeOffset> NextFireTimes { get; init; } = [];

    /// <summary>The fire time of the last run (or of the last trigger, in UTC), or null before the first. A fire time skipped by <see cref="OverlapPolicy.Skip"/> leaves it as it is: the last run is the one still running.</summary>
    public DateTimeOffset? LastFireAt { get; init; }

    /// <summary>The id of the last run's task, or null when there was none (or, for a schedule last moved by version 0.2.0, when that fire time was skipped).</summary>
    public string? LastTaskId { get; init; }

    /// <summary>The state of the last run's task, or null when unknown (no run, or its record expired).</summary>
    public TaskState? LastState { get; init; }

    /// <summary>Whether a run asked for with <see cref="ITaskSchedules.TriggerAsync"/> is waiting for a worker to enqueue it.</summary>
    public bool TriggerPending { get; init; }

    /// <summary>Why no worker can fire it (an unknown time zone, an unreadable definition), or null.</summary>
    public string? Problem { get; init; }
}

using System;

namespace TypedTasks.Store;

/// <summary>A schedule as an <see cref="IScheduleStore"/> keeps it.</summary>
/// <param name="Name">The schedule's name, unique in the store.</param>
/// <param name="Definition">What to fire and when, encoded by the scheduling layer; opaque to the store, compared as text.</param>
/// <param name="Generation">1 when made; one more each time its definition changes. Fire ids include it.</param>
/// <param name="NextFireAt">The next fire time not yet enqueued, or null when the expression has no more.</param>
/// <param name="Paused">Whether firing is paused.</param>
/// <param name="LastFireAt">The fire time of the last run, or null before the first. A skipped fire time leaves it as it is.</param>
/// <param name="LastTaskId">The id of the task enqueued for <paramref name="LastFireAt"/>, or null (a schedule last moved by version 0.2.0 recorded a skipped fire time so).</param>
/// <param name="TriggerRequestedAt">When a run outside the schedule was asked for (<c>ITaskSchedules.TriggerAsync</c>) and not yet enqueued, or null.</param>
public sealed record StoredSchedule(
    string Name,
    string Definition,
    long Generation,
    DateTimeOffset? NextFireAt,
    bool Paused,
    DateTimeOffset? LastFireAt,
    string? LastTaskId,
    DateTimeOffset? TriggerRequestedAt)
{
    /// <summary>
    /// Why the store could not read this schedule (a field that is no number, a key of another
    /// Redis type: a hand edit), or null. Such a schedule is listed with it and never fired.
    /// </summary>
    public string? Problem { get; init; }
}

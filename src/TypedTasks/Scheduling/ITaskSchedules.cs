using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Scheduling;

/// <summary>
/// The schedules of the store, from DI: dynamic ones made here, and the <see cref="PeriodicAttribute"/>
/// tasks' (named after their task). Workers serving a schedule's queue fire it, with no leader,
/// each fire time exactly once: a fire is enqueued under a task id made of the schedule's name,
/// generation and fire time before the schedule moves on, so many workers, a crash between the
/// two steps or a clock a little off neither double nor drop it. The run gets its fire time as
/// <see cref="TaskContext.ScheduledFor"/>.
/// </summary>
public interface ITaskSchedules
{
    /// <summary>
    /// Creates or changes the schedule <paramref name="name"/>: <paramref name="call"/> (a task with
    /// its arguments bound, <c>Tasks.X.Call(...)</c>, with its queue, priority and expiry options)
    /// at the fire times of <paramref name="cron"/> in <paramref name="timeZone"/> (UTC when null).
    /// Upserting what is already stored changes nothing; a change starts a new generation whose
    /// first fire time is the next one from now. Throws <see cref="ArgumentException"/> for a bad
    /// name, expression, zone or option, and stores nothing then.
    /// </summary>
    Task<ScheduleInfo> UpsertAsync(string name, TaskCall call, string cron, TimeZoneInfo? timeZone = null, ScheduleOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the schedule; runs already enqueued stay. Returns false when there is none of that
    /// name. The schedule of a <see cref="PeriodicAttribute"/> task comes back as soon as a worker
    /// serving its queue sees it gone: pause it instead, or remove the attribute.
    /// </summary>
    Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The schedule, or null when there is none of that name.</summary>
    Task<ScheduleInfo?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every schedule, in name order, with its next fire times, last run and that run's state.</summary>
    Task<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for one run now, outside the schedule: a worker serving its queue enqueues it within
    /// about a second (its <see cref="TaskContext.ScheduledFor"/> is the time of the request) and
    /// records it as the last run. Returns false when there is no schedule of that name.
    /// </summary>
    Task<bool> TriggerAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Stops firing the schedule until <see cref="ResumeAsync"/>. Returns false when there is none of that name.</summary>
    Task<bool> PauseAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Fires the schedule again from its next fire time after now (those passed while paused do not run). Returns false when there is none of that name.</summary>
    Task<bool> ResumeAsync(string name, CancellationToken cancellationToken = default);
}

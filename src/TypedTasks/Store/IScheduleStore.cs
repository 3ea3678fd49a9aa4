using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Store;

/// <summary>
/// Where schedules live, beside the tasks: implemented by the task stores that keep schedules
/// (the in-memory store, and the Redis store in one hash slot for all schedules). Each operation
/// is atomic. Firing is leaderless: every worker may read a due schedule, enqueue its fire under
/// a deterministic task id, then move it on with <see cref="AdvanceAsync"/>, a compare-and-set on
/// the generation and the expected next fire time, so that of many workers one advances it and
/// the others' enqueues of the same fire find the task already there.
/// </summary>
public interface IScheduleStore
{
    /// <summary>
    /// Stores a schedule. A new one gets generation 1 and <paramref name="nextFireAt"/>; one whose
    /// definition is the same text is left as it is (its next fire time, pause and last run too);
    /// one whose definition differs gets it with its generation one more and
    /// <paramref name="nextFireAt"/>, keeping its pause and last run. Returns the schedule as stored.
    /// </summary>
    ValueTask<StoredSchedule> UpsertScheduleAsync(string name, string definition, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default);

    /// <summary>The schedule, or null when none has that name.</summary>
    ValueTask<StoredSchedule?> GetScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every schedule, in name order.</summary>
    ValueTask<IReadOnlyList<StoredSchedule>> ListSchedulesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the schedule to <paramref name="nextFireAt"/> when it still has
    /// <paramref name="generation"/> and <paramref name="expectedNext"/> as its next fire time, and
    /// records the last fire time handled (<paramref name="lastFireAt"/>, with its task id or null
    /// when it was skipped; nothing is recorded when <paramref name="lastFireAt"/> is null).
    /// Returns false, changing nothing, when the schedule is gone or another caller moved it first.
    /// </summary>
    ValueTask<bool> AdvanceAsync(string name, long generation, DateTimeOffset expectedNext, DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, string? lastTaskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pauses the schedule, or resumes it from <paramref name="nextFireAt"/> (fire times passed
    /// while it was paused are not run). Returns false when no schedule has that name.
    /// </summary>
    ValueTask<bool> SetPausedAsync(string name, bool paused, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for one run outside the schedule, at <paramref name="at"/>: recorded on the schedule for
    /// a worker to enqueue. Returns false when no schedule has that name or a request is already waiting.
    /// </summary>
    ValueTask<bool> RequestTriggerAsync(string name, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Clears the trigger request made at <paramref name="requestedAt"/> once its run is enqueued,
    /// and records it as the last run. Returns false when that request is no longer waiting.
    /// </summary>
    ValueTask<bool> CompleteTriggerAsync(string name, DateTimeOffset requestedAt, string taskId, CancellationToken cancellationToken = default);

    /// <summary>Deletes the schedule. Returns false when none has that name.</summary>
    ValueTask<bool> RemoveScheduleAsync(string name, CancellationToken cancellationToken = default);
}

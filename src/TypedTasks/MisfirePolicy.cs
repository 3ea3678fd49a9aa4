namespace TypedTasks;

/// <summary>
/// What a schedule does with fire times it missed (no worker serving its queue was running, or the
/// store could not be reached) once a worker sees them. A fire time is missed when it is more than
/// <see cref="Scheduling.ScheduleOptions.MisfireThreshold"/> (5 seconds) in the past; fire times within it run
/// as usual. Values are stored with schedules: never renumber.
/// </summary>
public enum MisfirePolicy
{
    /// <summary>Run once, for the latest missed fire time, and drop the others (Celery beat's behaviour). The default.</summary>
    RunOnce = 0,

    /// <summary>Run every missed fire time, oldest first, each with its own <see cref="TaskContext.ScheduledFor"/>.</summary>
    RunAll = 1,

    /// <summary>Drop the missed fire times; the next run is the next fire time still ahead.</summary>
    Skip = 2,
}

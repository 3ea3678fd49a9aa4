namespace TypedTasks;

/// <summary>
/// What a schedule does at a fire time while the run of its previous fire time is not final yet.
/// Values are stored with schedules: never renumber.
/// </summary>
public enum OverlapPolicy
{
    /// <summary>Run anyway: runs of one schedule may overlap. The default.</summary>
    Allow = 0,

    /// <summary>Skip this fire time (logged; the schedule's last run stays the one still running); the next one runs if that run has ended by then.</summary>
    Skip = 1,
}

namespace TypedTasks.Store;

/// <summary>How many tasks of a queue are in each state. Final states count what their capped index keeps.</summary>
public sealed record StateCounts(long Pending, long Scheduled, long Started, long Retrying, long Succeeded, long Failed, long Canceled, long Expired)
{
    /// <summary>Of the <see cref="Pending"/> tasks, how many a rate or concurrency limit holds back (<see cref="TaskLimit"/>).</summary>
    public long Held { get; init; }

    /// <summary>The count of one state.</summary>
    public long this[TaskState state] => state switch
    {
        TaskState.Pending => Pending,
        TaskState.Scheduled => Scheduled,
        TaskState.Started => Started,
        TaskState.Retrying => Retrying,
        TaskState.Succeeded => Succeeded,
        TaskState.Failed => Failed,
        TaskState.Canceled => Canceled,
        TaskState.Expired => Expired,
        _ => 0,
    };
}

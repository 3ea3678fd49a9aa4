namespace TypedTasks.Celery.Protocol;

/// <summary>Celery's state names and their TypedTasks counterparts.</summary>
internal static class CeleryStates
{
    public const string Pending = "PENDING";
    public const string Received = "RECEIVED";
    public const string Started = "STARTED";
    public const string Retry = "RETRY";
    public const string Success = "SUCCESS";
    public const string Failure = "FAILURE";
    public const string Revoked = "REVOKED";
    public const string Rejected = "REJECTED";
    public const string Ignored = "IGNORED";

    /// <summary>Celery's READY_STATES: the task will not change state again.</summary>
    public static bool IsReady(string status) => status is Success or Failure or Revoked;

    /// <summary>
    /// The TypedTasks state of a Celery status. A custom state a task sets itself (update_state
    /// with "PROGRESS", say) is only set while it runs, so it reads as Started.
    /// </summary>
    public static TaskState ToTaskState(string status) => status switch
    {
        Pending or Received => TaskState.Pending,
        Retry => TaskState.Retrying,
        Success => TaskState.Succeeded,
        Failure or Rejected => TaskState.Failed,
        Revoked or Ignored => TaskState.Canceled,
        _ => TaskState.Started,
    };
}

namespace TypedTasks;

/// <summary>Where a task is in its life. Values are part of the wire format: never renumber.</summary>
public enum TaskState
{
    /// <summary>Enqueued and waiting in its queue (or put back there: released by a stopping worker, recovered from a lost one).</summary>
    Pending = 0,

    /// <summary>Waiting for its delay or ETA before it enters its queue.</summary>
    Scheduled = 1,

    /// <summary>A worker has it: fetched (perhaps waiting in the worker's prefetch buffer) or running, under a lease the worker renews.</summary>
    Started = 2,

    /// <summary>A run failed and another run is scheduled.</summary>
    Retrying = 3,

    /// <summary>Final: it ran to completion and its result is stored.</summary>
    Succeeded = 4,

    /// <summary>Final: it threw (or outlived its timeout) and has no retries left.</summary>
    Failed = 5,

    /// <summary>Final: it was canceled before or during its run.</summary>
    Canceled = 6,

    /// <summary>Final: it had not started when it expired.</summary>
    Expired = 7,
}

using System;

namespace TypedTasks;

/// <summary>
/// Recorded as the error of a run that outlived its task's <c>Timeout</c>. Only the worker's limit
/// gives it: a <see cref="TimeoutException"/> thrown by the task itself is recorded as it is.
/// </summary>
public sealed class TaskTimeoutException : Exception
{
    /// <summary>Creates the exception for a task and its limit.</summary>
    public TaskTimeoutException(string taskName, TimeSpan timeout)
        : base($"Task {taskName} did not finish within its timeout of {timeout:c}.")
    {
    }
}

using System;

namespace TypedTasks;

/// <summary>Thrown when awaiting a task that ended <see cref="TaskState.Failed"/>.</summary>
public sealed class TaskFailedException : Exception
{
    /// <summary>Creates the exception for the task <paramref name="taskId"/> that failed with <paramref name="error"/>.</summary>
    public TaskFailedException(string taskId, string taskName, TaskError error)
        : base($"Task {taskName} ({taskId}) failed: {error.Type}: {error.Message}")
    {
        TaskId = taskId;
        TaskName = taskName;
        Error = error;
    }

    /// <summary>The id of the failed task.</summary>
    public string TaskId { get; }

    /// <summary>The name of the failed task.</summary>
    public string TaskName { get; }

    /// <summary>The remote exception.</summary>
    public TaskError Error { get; }

    /// <summary>The full type name of the remote exception.</summary>
    public string RemoteType => Error.Type;

    /// <summary>The remote stack trace.</summary>
    public string? RemoteStackTrace => Error.StackTrace;
}

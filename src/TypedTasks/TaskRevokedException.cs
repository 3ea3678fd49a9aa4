using System;

namespace TypedTasks;

/// <summary>Thrown when awaiting a task that ended <see cref="TaskState.Canceled"/> or <see cref="TaskState.Expired"/>.</summary>
public sealed class TaskRevokedException : OperationCanceledException
{
    /// <summary>Creates the exception for the task <paramref name="taskId"/> that ended in <paramref name="state"/>.</summary>
    public TaskRevokedException(string taskId, string taskName, TaskState state)
        : base($"Task {taskName} ({taskId}) ended {state} without a result.")
    {
        TaskId = taskId;
        TaskName = taskName;
        State = state;
    }

    /// <summary>The id of the task.</summary>
    public string TaskId { get; }

    /// <summary>The name of the task.</summary>
    public string TaskName { get; }

    /// <summary><see cref="TaskState.Canceled"/> or <see cref="TaskState.Expired"/>.</summary>
    public TaskState State { get; }
}

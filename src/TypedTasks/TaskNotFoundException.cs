using System;

namespace TypedTasks;

/// <summary>
/// Thrown when the store holds nothing for a task id: it was never enqueued there (another Redis
/// or key prefix), its final record expired (<c>TypedTasks:ResultTtl</c>), or the store lost it
/// (<see cref="Lost"/>: Redis restarted without its data).
/// </summary>
public sealed class TaskNotFoundException : Exception
{
    /// <summary>Creates the exception for <paramref name="taskId"/>.</summary>
    public TaskNotFoundException(string taskId, bool lost, string? message = null)
        : base(message ?? (lost
            ? $"Task {taskId} was lost: the store no longer holds the queue it was sent to (Redis restarted without its data, or the queue's keys were deleted). It will not run; enqueue it again."
            : $"No task {taskId} is stored: it was never enqueued here (check the Redis address and key prefix), or it ended longer ago than the result TTL (TypedTasks:ResultTtl) and its record expired."))
    {
        TaskId = taskId;
        Lost = lost;
    }

    /// <summary>The id asked for.</summary>
    public string TaskId { get; }

    /// <summary>True when the store can tell the task existed and its data was lost; false when it cannot tell "never seen" from "expired".</summary>
    public bool Lost { get; }
}

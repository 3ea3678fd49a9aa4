namespace TypedTasks;

/// <summary>The exception a task ended with, as the worker recorded it.</summary>
/// <param name="Type">The full name of the exception's type, such as <c>System.InvalidOperationException</c>.</param>
/// <param name="Message">The exception's message.</param>
/// <param name="StackTrace">The stack trace in the worker, inner exceptions included.</param>
public sealed record TaskError(string Type, string Message, string? StackTrace)
{
    /// <summary>
    /// In a workflow step that never ran because an earlier step or member failed (or was canceled
    /// or expired): the id of that task; its error is this one. Null otherwise.
    /// </summary>
    public string? FailedTaskId { get; init; }

    /// <summary>The task name of <see cref="FailedTaskId"/>, or null.</summary>
    public string? FailedTaskName { get; init; }
}

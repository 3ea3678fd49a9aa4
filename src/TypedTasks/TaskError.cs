namespace TypedTasks;

/// <summary>The exception a task ended with, as the worker recorded it.</summary>
/// <param name="Type">The full name of the exception's type, such as <c>System.InvalidOperationException</c>.</param>
/// <param name="Message">The exception's message.</param>
/// <param name="StackTrace">The stack trace in the worker, inner exceptions included.</param>
public sealed record TaskError(string Type, string Message, string? StackTrace);

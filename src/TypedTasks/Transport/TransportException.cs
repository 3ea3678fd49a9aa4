using System;

namespace TypedTasks.Transport;

/// <summary>
/// The broker or result backend could not be reached (a connection lost, a server restarting, a
/// timeout) or refused for a passing cause (out of memory). It is transient: the same call may
/// succeed later, and the worker retries the writes that record a task's outcome until it does.
/// When <see cref="OutcomeUnknown"/> is true the request was sent and no answer came, so it may
/// have been carried out.
/// </summary>
public sealed class TransportException : Exception
{
    /// <summary>Creates the exception with the reason and the transport's own error.</summary>
    public TransportException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with the reason.</summary>
    public TransportException(string message)
        : base(message)
    {
    }

    /// <summary>
    /// True when the request was sent and no answer came (a timeout, a connection lost while
    /// waiting): it may or may not have been carried out.
    /// </summary>
    public bool OutcomeUnknown { get; init; }

    /// <summary>
    /// For an enqueue whose outcome is unknown, the id of the task it sent: the task may have been
    /// enqueued. Enqueue again with <see cref="EnqueueOptions.TaskId"/> set to it, so that a task
    /// that has already run under that id is not run again.
    /// </summary>
    public string? TaskId { get; init; }
}

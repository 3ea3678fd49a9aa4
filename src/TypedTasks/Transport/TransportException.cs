using System;

namespace TypedTasks.Transport;

/// <summary>
/// The broker or result backend could not be reached (a connection lost, a server restarting, a
/// timeout). It is transient: the same call may succeed later, and the worker retries the writes
/// that record a task's outcome until it does.
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
}

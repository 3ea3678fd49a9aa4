using System;

namespace TypedTasks.Serialization;

/// <summary>Bytes in a queue that are not an envelope this worker can read.</summary>
public sealed class InvalidEnvelopeException : Exception
{
    /// <summary>Creates the exception with the reason.</summary>
    public InvalidEnvelopeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and the error behind it.</summary>
    public InvalidEnvelopeException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

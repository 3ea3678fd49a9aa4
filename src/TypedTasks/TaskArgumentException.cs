using System;

namespace TypedTasks;

/// <summary>The arguments in a message do not fit the task (count or types): retrying cannot help.</summary>
public sealed class TaskArgumentException : Exception
{
    /// <summary>Creates the exception with the reason.</summary>
    public TaskArgumentException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and the decoding error behind it.</summary>
    public TaskArgumentException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

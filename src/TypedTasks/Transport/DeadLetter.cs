using System;

namespace TypedTasks.Transport;

/// <summary>A message set aside, verbatim, with why and when.</summary>
/// <param name="Queue">The queue it came from.</param>
/// <param name="Body">The bytes exactly as they were in the queue.</param>
/// <param name="Reason">Why the worker set it aside.</param>
/// <param name="At">When.</param>
public sealed record DeadLetter(string Queue, ReadOnlyMemory<byte> Body, string Reason, DateTimeOffset At);

using System;

namespace TypedTasks;

/// <summary>What the result backend knows of one task.</summary>
/// <param name="Id">The task id.</param>
/// <param name="TaskName">The task name.</param>
/// <param name="State">The task's state.</param>
/// <param name="Attempt">The run this state belongs to, from 0 for the first run.</param>
/// <param name="UpdatedAt">When the state was written.</param>
/// <param name="Error">The error of a failed or retrying task.</param>
/// <param name="Result">The MessagePack-encoded result of a succeeded task; empty otherwise.</param>
public sealed record TaskInfo(
    string Id,
    string TaskName,
    TaskState State,
    int Attempt,
    DateTimeOffset UpdatedAt,
    TaskError? Error,
    ReadOnlyMemory<byte> Result)
{
    /// <summary>The queue the task was sent to; null in records written without it (older clients, some tools).</summary>
    public string? Queue { get; init; }

    /// <summary>The worker (<c>host:pid</c>) that started the current run; null before a run starts.</summary>
    public string? Worker { get; init; }
}

using System;

namespace TypedTasks;

/// <summary>What the task store knows of one task.</summary>
/// <param name="Id">The task id.</param>
/// <param name="TaskName">The task name.</param>
/// <param name="State">The task's state.</param>
/// <param name="Attempt">
/// The number of the run this state belongs to, counted from 1: 1 for the first run (Started,
/// then Succeeded, Failed or Retrying), 2 for the first retry, and so on; logs say "attempt N"
/// with the same N. 0 while the task has not started (Pending, Scheduled, or Canceled before
/// any run). A task canceled while it runs keeps the number of that run; one interrupted by a
/// worker's shutdown is Pending again with the number of the run before it (N − 1; 0 after a
/// first run), since the interrupted run does not count against its retries: its next run has
/// the interrupted run's number N again.
/// </param>
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

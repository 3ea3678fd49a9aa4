using System;

namespace TypedTasks.Store;

/// <summary>A task started by a fetch, held by this worker until it settles it with <see cref="ITaskStore.CompleteAsync"/>.</summary>
/// <param name="Id">The task's id.</param>
/// <param name="Queue">Its queue.</param>
/// <param name="Attempt">The number of this run, from 1 (a run lost with its worker does not count).</param>
/// <param name="Envelope">The encoded envelope, as the producer wrote it.</param>
/// <param name="Priority">Its priority.</param>
/// <param name="Fence">Which delivery of the task this is: a lease whose task was recovered and fetched again no longer matches, and settles nothing.</param>
public sealed record TaskLease(string Id, string Queue, int Attempt, ReadOnlyMemory<byte> Envelope, int Priority, long Fence);

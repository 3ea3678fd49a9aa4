using System;

namespace TypedTasks.Store;

/// <summary>A task as the store holds it, for tools.</summary>
/// <param name="Info">Its state, attempt, result or error.</param>
/// <param name="Envelope">Its encoded envelope (name, arguments, times); empty once the store dropped it (after success).</param>
/// <param name="Priority">Its priority.</param>
/// <param name="DueAt">When a scheduled or retrying task is due, or when a running task's lease ends; null otherwise.</param>
public sealed record StoredTask(TaskInfo Info, ReadOnlyMemory<byte> Envelope, int Priority, DateTimeOffset? DueAt);

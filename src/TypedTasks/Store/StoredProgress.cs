using System;

namespace TypedTasks.Store;

/// <summary>A task's latest progress as the store keeps it.</summary>
/// <param name="Value">The value the task reported, encoded (MessagePack).</param>
/// <param name="Attempt">The run that reported it, from 1.</param>
/// <param name="UpdatedAt">When it was stored.</param>
public sealed record StoredProgress(ReadOnlyMemory<byte> Value, int Attempt, DateTimeOffset UpdatedAt);

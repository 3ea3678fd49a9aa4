using System;

namespace TypedTasks;

/// <summary>One progress value of a task.</summary>
/// <typeparam name="T">The type the task reports.</typeparam>
/// <param name="Value">The value.</param>
/// <param name="Attempt">The run that reported it, from 1.</param>
/// <param name="UpdatedAt">When the store took it.</param>
public sealed record ProgressUpdate<T>(T Value, int Attempt, DateTimeOffset UpdatedAt);

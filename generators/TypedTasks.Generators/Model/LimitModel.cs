namespace TypedTasks.Generators.Model;

/// <summary>The rate and concurrency limits of a task, as the descriptor carries them (positions among the carried arguments, the window in ticks).</summary>
internal sealed record LimitModel(int RateCount, long? RatePerTicks, int? RateLimitKey, int MaxConcurrency, int? ConcurrencyKey);

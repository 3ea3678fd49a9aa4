namespace TypedTasks.Generators.Model;

/// <summary>A task's <c>[Periodic]</c> schedule as values: the policies as their enum numbers.</summary>
internal sealed record PeriodicModel(string Cron, string TimeZone, int Misfire, int Overlap);

namespace TypedTasks.Generators.Model;

/// <summary>A task's identity for the compilation-wide checks (duplicate names, proxy collisions).</summary>
internal sealed record TaskIdentity(string Name, string ProxyName, string Method, LocationInfo? Location);

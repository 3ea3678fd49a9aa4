namespace TypedTasks.Generators.Model;

/// <summary>What parsing one <c>[CeleryTask]</c> method gives: a model when it can be proxied, and the diagnostics.</summary>
internal sealed record CeleryParseResult(CeleryTaskModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

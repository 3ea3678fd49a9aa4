namespace TypedTasks.Generators.Model;

/// <summary>What parsing one <c>[Task]</c> method gives: a model when the task can run, and the diagnostics.</summary>
internal sealed record TaskParseResult(TaskModel? Model, TaskIdentity? Identity, EquatableArray<DiagnosticInfo> Diagnostics);

namespace TypedTasks.Generators.Model;

/// <summary>One parameter of a task method.</summary>
/// <param name="Name">The parameter name as declared (escaped with @ when a keyword).</param>
/// <param name="Type">The <c>global::</c>-qualified type with nullable annotations.</param>
/// <param name="IsCancellationToken">Supplied by the worker, not carried in the message.</param>
/// <param name="DefaultValue">The C# expression of an optional parameter's default, or null.</param>
internal sealed record ParameterModel(string Name, string Type, bool IsCancellationToken, string? DefaultValue);

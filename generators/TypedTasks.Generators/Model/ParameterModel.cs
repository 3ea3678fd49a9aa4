namespace TypedTasks.Generators.Model;

/// <summary>One parameter of a task method.</summary>
/// <param name="Name">The parameter name as declared (escaped with @ when a keyword).</param>
/// <param name="Type">The <c>global::</c>-qualified type with nullable annotations.</param>
/// <param name="SuppliedBy">
/// For a parameter the worker supplies (a CancellationToken, a TaskContext), the expression on the
/// generated <c>invocation</c> that gives it; null for an argument carried in the message.
/// </param>
/// <param name="DefaultValue">The C# expression of an optional parameter's default, or null.</param>
internal sealed record ParameterModel(string Name, string Type, string? SuppliedBy, string? DefaultValue)
{
    /// <summary>Whether the worker supplies it: callers never pass it and the message never carries it.</summary>
    public bool IsSupplied => SuppliedBy is not null;
}

namespace TypedTasks.Generators.Model;

/// <summary>How a task method hands back its result.</summary>
internal enum ReturnKind
{
    Void,
    Task,
    ValueTask,
    Value,
    TaskOfT,
    ValueTaskOfT,
}

/// <summary>
/// Everything the emitter needs to write one task's proxy and dispatch entry: strings and
/// numbers only (types as <c>global::</c>-qualified names, times as ticks), no symbols, no
/// syntax and no locations, so that an unrelated edit leaves it equal and the pipeline cached.
/// </summary>
internal sealed record TaskModel(
    string Name,
    string ProxyName,
    string ContainingType,
    string MethodName,
    bool IsStatic,
    ReturnKind ReturnKind,
    string? ResultType,
    EquatableArray<ParameterModel> Parameters,
    string Queue,
    int MaxRetries,
    long? TimeoutTicks,
    long? RetryDelayTicks,
    long? ExpiresTicks,
    EquatableArray<string> DocLines)
{
    public bool HasResult => ResultType is not null;
}

/// <summary>One parameter of a task method.</summary>
/// <param name="Name">The parameter name as declared (escaped with @ when a keyword).</param>
/// <param name="Type">The <c>global::</c>-qualified type with nullable annotations.</param>
/// <param name="IsCancellationToken">Supplied by the worker, not carried in the message.</param>
/// <param name="DefaultValue">The C# expression of an optional parameter's default, or null.</param>
internal sealed record ParameterModel(string Name, string Type, bool IsCancellationToken, string? DefaultValue);

/// <summary>A task's identity for the compilation-wide checks (duplicate names, proxy collisions).</summary>
internal sealed record TaskIdentity(string Name, string ProxyName, string Method, LocationInfo? Location);

namespace TypedTasks.Generators.Model;

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
    EquatableArray<string> DocLines,
    PeriodicModel? Periodic = null,
    long? UniqueForTicks = null,
    EquatableArray<int> UniqueBy = default,
    LimitModel? Limits = null)
{
    public bool HasResult => ResultType is not null;
}

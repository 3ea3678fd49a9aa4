namespace TypedTasks.Generators.Model;

/// <summary>
/// A <c>[CeleryTask]</c> declaration: the Celery name and queue, the declared method (to implement
/// it), and the carried parameters and result type (for the proxy).
/// </summary>
internal sealed record CeleryTaskModel(
    string CeleryName,
    string? Queue,
    string MethodName,
    string Accessibility,
    string? ContainingNamespace,
    string ContainingType,
    string ReturnType,
    string ResultType,
    EquatableArray<ParameterModel> Parameters);

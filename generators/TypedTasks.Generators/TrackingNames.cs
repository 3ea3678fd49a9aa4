namespace TypedTasks.Generators;

/// <summary>The names of the pipeline steps, for the caching tests.</summary>
internal static class TrackingNames
{
    public const string Parsed = nameof(Parsed);
    public const string Models = nameof(Models);
    public const string Identities = nameof(Identities);
    public const string RootNamespace = nameof(RootNamespace);
    public const string References = nameof(References);
    public const string Celery = nameof(Celery);
}

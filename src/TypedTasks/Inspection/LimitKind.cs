namespace TypedTasks.Inspection;

/// <summary>What a limit counts.</summary>
public enum LimitKind
{
    /// <summary>Tasks running at once (<see cref="TaskAttribute.MaxConcurrency"/>).</summary>
    Concurrency,

    /// <summary>Tasks started per window (<see cref="TaskAttribute.RateLimit"/>).</summary>
    Rate,
}

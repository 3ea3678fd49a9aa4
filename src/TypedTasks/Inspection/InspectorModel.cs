namespace TypedTasks.Inspection;

/// <summary>
/// The version and limits of the inspection model (<see cref="ITaskInspector"/> and the types it
/// returns), for tools that exchange it with others built against another version.
/// </summary>
public static class InspectorModel
{
    /// <summary>
    /// The version of the model this assembly defines. It grows when a member changes meaning or
    /// goes away; members may be added within a version, so readers ignore what they do not know.
    /// </summary>
    public const int Version = 1;

    /// <summary>The most tasks one page of <see cref="ITaskInspector.GetTasksAsync"/> returns.</summary>
    public const int MaxPageSize = 1_000;

    /// <summary>How many tasks an operation on many tasks hands to the store in one call.</summary>
    public const int BatchSize = 500;

    /// <summary>
    /// Why <paramref name="queue"/> is not a queue name, starting with the name itself; null when it
    /// is one. Tools check arguments with it before they call the inspector, which throws on them.
    /// </summary>
    public static string? QueueNameProblem(string? queue) => QueueName.Problem(queue);
}

namespace TypedTasks;

/// <summary>Helpers over <see cref="TaskState"/>.</summary>
public static class TaskStateExtensions
{
    /// <summary>Whether the state is final: the task will not run (again).</summary>
    public static bool IsFinal(this TaskState state) => state >= TaskState.Succeeded;
}

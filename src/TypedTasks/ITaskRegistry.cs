using System.Collections.Generic;
using System.ComponentModel;

namespace TypedTasks;

/// <summary>The tasks one assembly declares; generated as <c>RootNamespace.TypedTasksRegistry</c>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface ITaskRegistry
{
    /// <summary>The assembly's tasks, sorted by name.</summary>
    IReadOnlyList<TaskDescriptor> Tasks { get; }
}

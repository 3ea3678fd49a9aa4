using System;
using TypedTasks.Store;

namespace TypedTasks.Inspection;

/// <summary>Makes the <see cref="ITaskInspector"/> of a store, for hosts and tools that do not use dependency injection.</summary>
public static class TaskInspectorFactory
{
    /// <summary>
    /// The inspector of <paramref name="store"/>. It names the arguments of the tasks this
    /// process knows (<see cref="TaskCatalog"/>) and measures heartbeat ages with
    /// <paramref name="timeProvider"/> (default: the system clock).
    /// </summary>
    public static ITaskInspector Create(ITaskStore store, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        return new TaskInspector(store, timeProvider);
    }
}

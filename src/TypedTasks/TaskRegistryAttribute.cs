using System;
using System.ComponentModel;

namespace TypedTasks;

/// <summary>Names the generated registry of a task assembly, so that other assemblies' generators find it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class TaskRegistryAttribute(Type registryType) : Attribute
{
    /// <summary>The generated registry type.</summary>
    public Type RegistryType { get; } = registryType;
}

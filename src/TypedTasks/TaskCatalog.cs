using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Reflection;

namespace TypedTasks;

/// <summary>
/// Every task registry loaded into this process. Each assembly that uses the generator registers,
/// from a module initializer, its own registry and those of the task assemblies it references,
/// so <c>AddTypedTasks</c> sees them all without a per-task line, even when no type of a task
/// library was touched before.
/// </summary>
public static class TaskCatalog
{
    private static readonly object Gate = new();
    private static ITaskRegistry[] _registries = [];

    /// <summary>Adds a registry; called by generated module initializers. Adding one twice is harmless.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register(ITaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        lock (Gate)
        {
            if (!_registries.Contains(registry))
            {
                _registries = [.. _registries, registry];
            }
        }
    }

    /// <summary>The registries known so far.</summary>
    public static IReadOnlyList<ITaskRegistry> Registries => _registries;

    /// <summary>
    /// Registers the registry that an assembly names in its <see cref="TaskRegistryAttribute"/>;
    /// for hosts that load task assemblies themselves (plug-ins).
    /// </summary>
    public static void RegisterAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var attribute = assembly.GetCustomAttribute<TaskRegistryAttribute>()
            ?? throw new ArgumentException($"Assembly {assembly.GetName().Name} declares no TypedTasks tasks (it has no [TaskRegistry] attribute).", nameof(assembly));
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(attribute.RegistryType.Module.ModuleHandle);
    }

    /// <summary>Every known task by name; throws when two assemblies declare the same name.</summary>
    public static IReadOnlyDictionary<string, TaskDescriptor> BuildTable()
    {
        var table = new Dictionary<string, TaskDescriptor>(StringComparer.Ordinal);
        foreach (var registry in _registries)
        {
            foreach (var task in registry.Tasks)
            {
                if (table.TryGetValue(task.Name, out var existing) && !ReferenceEquals(existing, task))
                {
                    throw new InvalidOperationException(
                        $"The task name '{task.Name}' is declared twice, in {existing.Invoker.Method.DeclaringType?.Assembly.GetName().Name} and in {task.Invoker.Method.DeclaringType?.Assembly.GetName().Name}. Give one of them another name with [Task(\"...\")].");
                }

                table[task.Name] = task;
            }
        }

        return table;
    }
}

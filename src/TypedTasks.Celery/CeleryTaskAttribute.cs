using System;

namespace TypedTasks.Celery;

/// <summary>
/// Declares a Celery task that another process (a Python Celery worker) runs: put it on a
/// <c>static partial</c> method with no body, in a <c>static partial</c> class. The generator
/// emits the typed proxy <c>CeleryTasks.MethodName</c> (<c>await CeleryTasks.Add.EnqueueAsync(2, 3)</c>)
/// and the method's body, which sends the task and waits for its result.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CeleryTaskAttribute : Attribute
{
    /// <summary>Declares the Celery task named <paramref name="name"/>.</summary>
    /// <param name="name">The task's Celery name, as Python registers it (<c>"proj.tasks.add"</c>).</param>
    public CeleryTaskAttribute(string name) => Name = name;

    /// <summary>The task's Celery name.</summary>
    public string Name { get; }

    /// <summary>The queue the task goes to; default: <see cref="CeleryOptions.DefaultQueue"/>.</summary>
    public string? Queue { get; set; }
}

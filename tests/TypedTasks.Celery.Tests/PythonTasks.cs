using System.Threading.Tasks;

namespace TypedTasks.Celery.Tests;

/// <summary>Python tasks (python/proj.py) declared for .NET callers: the generator writes CeleryTasks.Add and the bodies.</summary>
public static partial class PythonTasks
{
    [CeleryTask("proj.tasks.add", Queue = "py")]
    public static partial Task<int> Add(int x, int y);

    [CeleryTask("proj.tasks.boom", Queue = "py")]
    public static partial Task<object?> Boom(string message);
}

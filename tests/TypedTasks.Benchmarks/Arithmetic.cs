using TypedTasks;

namespace TypedTasks.Benchmarks;

/// <summary>
/// The workload under the default task name, <c>TypedTasks.Benchmarks.Arithmetic.Add</c> (36
/// characters): its envelope no longer fits a store bucket, so this is what a task named the
/// default way costs.
/// </summary>
public static class Arithmetic
{
    /// <summary>add(x, y) with the name <c>Namespace.Type.Method</c>.</summary>
    [Task(ProxyName = "DefaultAdd")]
    public static int Add(int x, int y) => x + y;
}

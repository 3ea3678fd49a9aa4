using System.Linq;
using TypedTasks;

namespace TypedTasks.Benchmarks;

/// <summary>The workload of every scenario: add(x, y), as the peers run it.</summary>
public static class BenchTasks
{
    /// <summary>The benchmark's own task (name "bench.add"), the headline figures'.</summary>
    [Task("bench.add")]
    public static int Add(int x, int y) => x + y;

    /// <summary>The same task under a typical chosen name, for the memory it costs.</summary>
    [Task("math.add")]
    public static int MathAdd(int x, int y) => x + y;

    /// <summary>S4-chord's callback: the sum of the members' results.</summary>
    [Task("bench.sum")]
    public static long Sum(int[] values) => values.Sum(v => (long)v);
}

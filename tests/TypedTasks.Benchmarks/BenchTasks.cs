using TypedTasks;

namespace TypedTasks.Benchmarks;

/// <summary>The workload of every scenario: add(x, y), as the peers run it.</summary>
public static class BenchTasks
{
    [Task("bench.add")]
    public static int Add(int x, int y) => x + y;
}

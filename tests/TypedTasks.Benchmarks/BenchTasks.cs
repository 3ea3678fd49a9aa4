using System.Linq;
using System.Threading;
using System.Threading.Tasks;
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

    /// <summary>F1-mixed: the limited tenth of the mixed run, at most 4 at once across workers.</summary>
    [Task("bench.limited", MaxConcurrency = 4)]
    public static int Limited(int x, int y) => x + y;

    /// <summary>F2-fairness: a tenant's task of <paramref name="ms"/> milliseconds, one at a time per tenant.</summary>
    [Task("bench.tenant", MaxConcurrency = 1, ConcurrencyKey = nameof(tenant))]
    public static async Task<int> Tenant(int tenant, int ms, CancellationToken cancellationToken)
    {
        await Task.Delay(ms, cancellationToken);
        return tenant;
    }
}

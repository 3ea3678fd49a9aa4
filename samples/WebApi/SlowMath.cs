using System.Threading;
using System.Threading.Tasks;
using TypedTasks;

namespace WebApi;

/// <summary>The work the API hands to a worker instead of doing it in the request.</summary>
public static class SlowMath
{
    /// <summary>Adds two numbers, slowly, as real work (a report, an export, an e-mail) would take time.</summary>
    [Task("webapi.add")]
    public static async Task<long> Add(int x, int y, CancellationToken ct)
    {
        await Task.Delay(50, ct);
        return (long)x + y;
    }
}

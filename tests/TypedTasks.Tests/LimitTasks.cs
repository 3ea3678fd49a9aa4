using System.Threading;

namespace TypedTasks.Tests;

/// <summary>Tasks with rate and concurrency limits, for the tests of their keys and of the send paths that carry them.</summary>
public static class LimitTasks
{
    public const string Queue = "limits";

    /// <summary>At most 2 at once per tenant, and 10 starts a second in all.</summary>
    [Task("tests.limits.send", Queue = Queue, MaxConcurrency = 2, ConcurrencyKey = nameof(tenant), RateLimit = "10/s", ProxyName = "LimitedSend")]
    public static int Send(string tenant, int n, CancellationToken token) => n;

    /// <summary>At most 500 starts an hour per customer.</summary>
    [Task("tests.limits.bill", Queue = Queue, RateLimit = "500/h", RateLimitKey = nameof(customer), ProxyName = "LimitedBill")]
    public static int Bill(int customer, long amount) => customer;

    /// <summary>A chain step limited per previous result and per region.</summary>
    [Task("tests.limits.step", Queue = Queue, MaxConcurrency = 3, ConcurrencyKey = nameof(input), RateLimit = "20/m", RateLimitKey = nameof(region), ProxyName = "LimitedStep")]
    public static int Step(int input, string region) => input;

    /// <summary>A chord's callback, at most one at a time per results.</summary>
    [Task("tests.limits.total", Queue = Queue, MaxConcurrency = 1, ConcurrencyKey = nameof(values), ProxyName = "LimitedTotal")]
    public static int Total(int[] values, string region) => values.Length;

    /// <summary>One at a time, whatever its argument.</summary>
    [Task("tests.limits.single", Queue = Queue, MaxConcurrency = 1, ProxyName = "LimitedSingle")]
    public static void Single(string note)
    {
    }
}

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.TestWorker;

/// <summary>Tasks run by the integration and fault tests, in the test process or in this worker process.</summary>
public static class WorkerTasks
{
    [Task("it.add")]
    public static int Add(int x, int y) => x + y;

    /// <summary>Takes a while, so that a run can be interrupted in the middle.</summary>
    [Task("it.slow-add")]
    public static async Task<long> SlowAdd(long x, long y, int milliseconds, CancellationToken ct)
    {
        await Task.Delay(milliseconds, ct);
        return x + y;
    }

    /// <summary>Keys whose it.unique runs end at once in this process, whatever the delay they carry.</summary>
    public static ConcurrentDictionary<string, bool> Hurried { get; } = new();

    /// <summary>Unique by key for a minute; counts its runs in <see cref="Calls"/> and takes a while.</summary>
    [Task("it.unique", UniqueFor = "00:01:00", UniqueBy = new[] { nameof(key) })]
    public static async Task<int> UniqueRun(string key, int milliseconds, CancellationToken ct)
    {
        var run = Calls.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (!Hurried.ContainsKey(key))
        {
            await Task.Delay(milliseconds, ct);
        }

        return run;
    }

    [Task("it.fail")]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    [Task("it.flaky", MaxRetries = 3, RetryDelay = "00:00:00.100")]
    public static int Flaky(string key, int failures)
    {
        var calls = Calls.AddOrUpdate(key, 1, (_, n) => n + 1);
        return calls <= failures ? throw new TimeoutException($"call {calls} failed") : calls;
    }

    /// <summary>Fails once, then succeeds after a backoff long enough to watch it wait as Retrying.</summary>
    [Task("it.retry-once", MaxRetries = 1, RetryDelay = "00:00:01")]
    public static int RetryOnce(string key) => Calls.AddOrUpdate(key, 1, (_, n) => n + 1) == 1 ? throw new TimeoutException("first call fails") : 2;

    /// <summary>Fails on its first call for a key (no retries, so it is dead-lettered), succeeds after.</summary>
    [Task("it.fail-first")]
    public static string FailFirst(string key) => Calls.AddOrUpdate(key, 1, (_, n) => n + 1) == 1 ? throw new InvalidOperationException("first call fails for " + key) : "ok:" + key;

    /// <summary>Used only by the metrics test, so that its counts are its own.</summary>
    [Task("it.metrics", Queue = "metrics")]
    public static int Square(int x) => x * x;

    [Task("it.timeout", Timeout = "00:00:00.200")]
    public static async Task<int> Sleep(int milliseconds, CancellationToken ct)
    {
        await Task.Delay(milliseconds, ct);
        return milliseconds;
    }

    [Task("it.record")]
    public static void Record(string key) => Calls.AddOrUpdate(key, 1, (_, n) => n + 1);

    [Task("it.block")]
    public static async Task Block(CancellationToken ct) => await Task.Delay(Timeout.Infinite, ct);

    [Task("it.report", Queue = "reports")]
    public static string Report(string name) => "report:" + name;

    /// <summary>A chord's callback: the sum of its members' results.</summary>
    [Task("it.sum")]
    public static long Sum(long[] values) => values.Sum();

    /// <summary>A chord's callback on another queue than its members: reached through their queue's outbox.</summary>
    [Task("it.sum-elsewhere", Queue = "reports")]
    public static long SumElsewhere(long[] values) => values.Sum();

    [Task("it.square")]
    public static long SquareOf(long value) => value * value;

    [Task("it.describe", Queue = "reports")]
    public static string Describe(long value, string unit) => $"{value} {unit}";

    /// <summary>Fails for one value: a member or step that fails.</summary>
    [Task("it.fail-on", Queue = "members")]
    public static long FailOn(long value, long bad) => value == bad ? throw new InvalidOperationException($"value {value} is bad") : value;

    /// <summary>What each run of <see cref="Note"/> was given, by its key.</summary>
    public static ConcurrentDictionary<string, long> Notes { get; } = new();

    /// <summary>A chain's last step without a result, on another queue than the steps before it.</summary>
    [Task("it.note", Queue = "reports")]
    public static void Note(long value, string key) => Notes.AddOrUpdate(key, value, (_, before) => before + value);

    /// <summary>A group's member without a result, on another queue than its callback: adds <paramref name="value"/> to the key's note; a negative value fails.</summary>
    [Task("it.send", Queue = "members")]
    public static void Send(string key, long value)
    {
        if (value < 0)
        {
            throw new InvalidOperationException($"cannot send {value}");
        }

        Notes.AddOrUpdate(key, value, (_, before) => before + value);
    }

    /// <summary>A step that takes no previous result: counts its runs in <see cref="Calls"/> and tells the key's note when it ran.</summary>
    [Task("it.after", Queue = "reports")]
    public static string After(string key, string note)
    {
        Calls.AddOrUpdate(key, 1, (_, n) => n + 1);
        return $"{note}: {(Notes.TryGetValue(key, out var value) ? value : 0)}";
    }

    /// <summary>The callback of a settled group whose results are not kept.</summary>
    [Task("it.tally")]
    public static string Tally(TypedTasks.Workflows.TaskOutcome[] outcomes)
        => string.Join(",", outcomes.Select(o => o.Succeeded ? "ok" : $"{o.State}:{o.Error?.Message}"));

    [Task("it.outcomes")]
    public static string Outcomes(TypedTasks.Workflows.TaskOutcome<long>[] outcomes)
        => string.Join(",", outcomes.Select(o => o.Succeeded ? o.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : o.State.ToString()));

    public static ConcurrentDictionary<string, int> Calls { get; } = new();

    /// <summary>At most 2 at once across every worker; returns when it ran (unix ms, start and end, on this machine's clock).</summary>
    [Task("it.limited", MaxConcurrency = 2)]
    public static async Task<long[]> Limited(int milliseconds, CancellationToken ct)
    {
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(milliseconds, ct);
        return [start, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()];
    }

    /// <summary>One at a time per tenant across every worker; returns when it ran, as <see cref="Limited"/>.</summary>
    [Task("it.per-tenant", MaxConcurrency = 1, ConcurrencyKey = nameof(tenant))]
    public static async Task<long[]> PerTenant(string tenant, int milliseconds, CancellationToken ct)
    {
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(milliseconds, ct);
        return [start, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()];
    }

    /// <summary>At most 10 starts per second across every worker; returns when it started (unix ms).</summary>
    [Task("it.rated", RateLimit = "10/s")]
    public static long Rated(int index) => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (index * 0);
}

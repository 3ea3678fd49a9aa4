using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks.Testing;

namespace TypedTasks.Benchmarks;

/// <summary>
/// Flow control's targets, against one worker process on a fresh redis-server:
/// F1-mixed, the throughput of unlimited tasks when a tenth of the tasks of their queue are
/// limited (<c>bench.limited</c>, at most 4 at once) beside the same tasks alone (F1's target) and
/// beside the same mix with that tenth unlimited (what the limit itself costs), in the same run;
/// F2-fairness, how long nine tenants (one task at a time each) take to finish their tasks while a
/// tenth tenant holds 90 % of the queue, enqueued first, against the same nine alone. One JSON line
/// per run, then a summary line per scenario with the medians and their spread.
/// </summary>
internal static class LimitScenario
{
    public static async Task<int> RunAsync()
    {
        var repeats = Env("REPEATS", 3);
        var n = Env("MIXED_N", 20_000);
        var perTenant = Env("TENANT_N", 20);
        var taskMs = Env("TENANT_MS", 20);
        var concurrency = Env("CONCURRENCY", 64);
        await using var redis = await RedisServer.StartAsync();
        var mixed = new List<double>();
        var twins = new List<double>();
        var fair = new List<double>();
        for (var rep = 1; rep <= repeats; rep++)
        {
            // F1: plain and mixed alternate their order between runs, so that neither always runs warmer.
            // The twin run sends the same tenth as unlimited bench.add tasks: the same work without
            // the limit, so that mixed / twin is what the limit itself costs the other tasks.
            var plainFirst = rep % 2 == 1;
            var first = await MixedRunAsync(redis.Endpoint, $"f1p{rep}", n, plainFirst ? 0 : n / 9, concurrency, limit: true);
            var second = await MixedRunAsync(redis.Endpoint, $"f1m{rep}", n, plainFirst ? n / 9 : 0, concurrency, limit: true);
            var twin = await MixedRunAsync(redis.Endpoint, $"f1t{rep}", n, n / 9, concurrency, limit: false);
            var (plain, limited) = plainFirst ? (first, second) : (second, first);
            mixed.Add(limited / plain);
            twins.Add(limited / twin);
            Console.WriteLine(Scenarios.Json(new()
            {
                ["scenario"] = "F1-mixed", ["rep"] = rep, ["n_unlimited"] = n, ["n_limited"] = n / 9,
                ["plain_tasks_per_s"] = Math.Round(plain), ["mixed_unlimited_tasks_per_s"] = Math.Round(limited),
                ["twin_unlimited_tasks_per_s"] = Math.Round(twin),
                ["ratio"] = Math.Round(limited / plain, 3), ["ratio_to_twin"] = Math.Round(limited / twin, 3),
                ["settings"] = $"1 worker process, concurrency {concurrency}; Tasks.X.EnqueueAsync per task in Task.WhenAll; every tenth task bench.limited (MaxConcurrency = 4); unlimited throughput = unlimited tasks / time to the last unlimited result",
            }));

            var alone = await FairnessRunAsync(redis.Endpoint, $"f2a{rep}", perTenant, taskMs, busy: false);
            var beside = await FairnessRunAsync(redis.Endpoint, $"f2b{rep}", perTenant, taskMs, busy: true);
            fair.Add(beside / alone);
            Console.WriteLine(Scenarios.Json(new()
            {
                ["scenario"] = "F2-fairness", ["rep"] = rep, ["tenants"] = 9, ["tasks_per_tenant"] = perTenant, ["task_ms"] = taskMs,
                ["busy_tasks"] = 81 * perTenant, ["nine_alone_s"] = Math.Round(alone, 3), ["nine_beside_busy_s"] = Math.Round(beside, 3),
                ["ratio"] = Math.Round(beside / alone, 3),
                ["settings"] = "1 worker process, concurrency 16; bench.tenant(tenant, ms): MaxConcurrency = 1 per tenant; the busy tenant's tasks (90 %) enqueued before the nine's",
            }));
        }

        Console.WriteLine(Scenarios.Json(Summary("F1-mixed", mixed, "mixed / plain unlimited throughput; target >= 0.9")));
        Console.WriteLine(Scenarios.Json(Summary("F1-mixed-twin", twins, "mixed / twin unlimited throughput: the twin sends the limited tenth unlimited")));
        Console.WriteLine(Scenarios.Json(Summary("F2-fairness", fair, "nine tenants' time beside the busy one / alone; target <= 1.1")));
        return 0;
    }

    // Unlimited bench.add tasks, with `limited` bench.limited tasks interleaved (every tenth task);
    // returns the unlimited tasks' throughput, to their last result.
    private static async Task<double> MixedRunAsync(string endpoint, string prefix, int n, int limited, int concurrency, bool limit)
    {
        await using var worker = await StartWorkerAsync(endpoint, prefix, concurrency);
        using var host = await StartProducerAsync(endpoint, prefix);
        var client = host.Services.GetRequiredService<TaskClient>();
        await Scenarios.WarmUpAsync(client, BenchTask.Get("bench"));
        var clock = Stopwatch.StartNew();
        var plain = new List<Task<AsyncResult<int>>>(n);
        var held = new List<Task<AsyncResult<int>>>(limited);
        for (var i = 0; i < n; i++)
        {
            plain.Add(Tasks.Add.WithClient(client).EnqueueAsync(i, i));
            if (i % 9 == 8 && held.Count < limited)
            {
                held.Add(limit ? Tasks.Limited.WithClient(client).EnqueueAsync(i, 1) : Tasks.Add.WithClient(client).EnqueueAsync(i, 1));
            }
        }

        var handles = await Task.WhenAll(plain);
        var results = await Task.WhenAll(handles.Select(h => h.GetAsync(TimeSpan.FromMinutes(5))));
        var elapsed = clock.Elapsed;
        Scenarios.Verify(results.Select((r, i) => r == 2 * i).All(ok => ok), "an F1 result was wrong");
        var limitedHandles = await Task.WhenAll(held);
        await Task.WhenAll(limitedHandles.Select(h => h.GetAsync(TimeSpan.FromMinutes(5))));
        return n / elapsed.TotalSeconds;
    }

    // Nine tenants' tasks (and, when busy, 81 times as many of a tenth tenant enqueued first);
    // returns the seconds from the nine's first enqueue to their last result.
    private static async Task<double> FairnessRunAsync(string endpoint, string prefix, int perTenant, int taskMs, bool busy)
    {
        await using var worker = await StartWorkerAsync(endpoint, prefix, 16);
        using var host = await StartProducerAsync(endpoint, prefix);
        var client = host.Services.GetRequiredService<TaskClient>();
        await Scenarios.WarmUpAsync(client, BenchTask.Get("bench"));
        if (busy)
        {
            await Task.WhenAll(Enumerable.Range(0, 81 * perTenant).Select(_ => Tasks.Tenant.WithClient(client).EnqueueAsync(0, taskMs)));
        }

        var clock = Stopwatch.StartNew();
        var nine = await Task.WhenAll(Enumerable.Range(0, perTenant).SelectMany(_ => Enumerable.Range(1, 9)).Select(t => Tasks.Tenant.WithClient(client).EnqueueAsync(t, taskMs)));
        await Task.WhenAll(nine.Select(h => h.GetAsync(TimeSpan.FromMinutes(5))));
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<ChildProcess> StartWorkerAsync(string endpoint, string prefix, int concurrency)
    {
        var worker = ChildProcess.Start("TypedTasks.Benchmarks", ["worker", "--redis", endpoint, "--prefix", prefix, "--concurrency", $"{concurrency}", "--prefetch", $"{concurrency}"]);
        await worker.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
        return worker;
    }

    private static async Task<IHost> StartProducerAsync(string endpoint, string prefix)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTypedTasks(o => o.UseRedis(endpoint, r => r.KeyPrefix = prefix));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static Dictionary<string, object?> Summary(string scenario, List<double> ratios, string what)
    {
        var sorted = ratios.Order().ToArray();
        return new()
        {
            ["scenario"] = scenario + "-summary",
            ["runs"] = sorted.Length,
            ["median_ratio"] = Math.Round(sorted[sorted.Length / 2], 3),
            ["min_ratio"] = Math.Round(sorted[0], 3),
            ["max_ratio"] = Math.Round(sorted[^1], 3),
            ["what"] = what,
        };
    }

    private static int Env(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using BenchmarkDotNet.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks;
using TypedTasks.Benchmarks;
using TypedTasks.Testing;

// dotnet run -c Release --project tests/TypedTasks.Benchmarks                 S1, S2, S3 (REPEATS=3, BULK_N=20000, LAT_N=2000)
// dotnet run -c Release --project tests/TypedTasks.Benchmarks -- micro       BenchmarkDotNet micro-benchmarks
// dotnet TypedTasks.Benchmarks.dll worker --redis HOST:PORT --prefix P      a worker process (started by the harness)
return args.FirstOrDefault() switch
{
    "worker" => await RunWorkerAsync(Arg("--redis")!, Arg("--prefix")!, int.Parse(Arg("--concurrency") ?? "64", CultureInfo.InvariantCulture), int.Parse(Arg("--prefetch") ?? "64", CultureInfo.InvariantCulture)),
    "micro" => RunMicro(args.Skip(1).ToArray()),
    _ => await RunHarnessAsync(),
};

string? Arg(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static int RunMicro(string[] rest)
{
    BenchmarkSwitcher.FromAssembly(typeof(BenchTasks).Assembly).Run(rest.Length == 0 ? ["--filter", "*"] : rest);
    return 0;
}

static async Task<int> RunWorkerAsync(string redis, string prefix, int concurrency, int prefetch)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddTypedTasks(o => o.UseRedis(redis, r => r.KeyPrefix = prefix)).AddWorker(w => { w.Concurrency = concurrency; w.Prefetch = prefetch; });
    using var host = builder.Build();
    await host.StartAsync();
    Console.WriteLine("ready");
    await host.WaitForShutdownAsync();
    return 0;
}

static async Task<int> RunHarnessAsync()
{
    var repeats = Env("REPEATS", 3);
    var bulkN = Env("BULK_N", 20_000);
    var latencyN = Env("LAT_N", 2_000);
    var scaling = (Environment.GetEnvironmentVariable("WORKERS") ?? "1,2,4").Split(',').Select(int.Parse).ToArray();
    var Concurrency = Env("CONCURRENCY", 64);
    var Prefetch = Env("PREFETCH", 64);

    // A fresh redis-server like the peers': loopback, no persistence.
    await using var redis = await RedisServer.StartAsync();
    var lines = new List<Dictionary<string, object?>>();
    for (var rep = 1; rep <= repeats; rep++)
    {
        foreach (var workers in scaling)
        {
            var prefix = $"b{rep}w{workers}";
            var processes = new List<ChildProcess>();
            for (var w = 0; w < workers; w++)
            {
                var child = ChildProcess.Start("TypedTasks.Benchmarks", ["worker", "--redis", redis.Endpoint, "--prefix", prefix, "--concurrency", $"{Concurrency}", "--prefetch", $"{Prefetch}"]);
                await child.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
                processes.Add(child);
            }

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddTypedTasks(o => o.UseRedis(redis.Endpoint, r => r.KeyPrefix = prefix));
            using var host = builder.Build();
            await host.StartAsync();
            var client = host.Services.GetRequiredService<TaskClient>();
            var jit = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") is "1" ? "tiered JIT" : "full JIT (TieredCompilation off)";
            var settings = $"{workers} worker process{(workers > 1 ? "es" : string.Empty)}, concurrency {Concurrency}, prefetch {Prefetch}, {jit}";
            // CPU is counted from after a first warm-up, so that it shows the cost per task, not start-up.
            await Scenarios.WarmUpAsync(client);
            int[] pids = [Environment.ProcessId, .. processes.Select(p => p.Id), redis.Pid ?? 0];
            var cpuBefore = pids.Select(CpuSeconds).ToArray();
            var bulk = await Scenarios.BulkAsync(client, bulkN, workers == 1 ? "S1-bulk" : "S3-scaling", settings);
            var cpu = pids.Select((pid, i) => CpuSeconds(pid) - cpuBefore[i]).ToArray();
            bulk["client_cpu_s"] = Math.Round(cpu[0], 2);
            bulk["worker_cpu_s"] = Math.Round(cpu[1..^1].Sum(), 2);
            bulk["redis_cpu_s"] = Math.Round(cpu[^1], 2);
            bulk["rep"] = rep;
            bulk["workers"] = workers;
            Emit(lines, bulk);
            if (workers == 1)
            {
                var scaling1 = new Dictionary<string, object?>(bulk) { ["scenario"] = "S3-scaling" };
                Emit(lines, scaling1);
                var latency = await Scenarios.LatencyAsync(client, latencyN, settings);
                latency["rep"] = rep;
                Emit(lines, latency);
            }

            await host.StopAsync();
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    // Medians and spread over the repetitions, one line per scenario and worker count.
    foreach (var group in lines.GroupBy(l => $"{l["scenario"]}|{l.GetValueOrDefault("workers")}"))
    {
        var throughput = group.Select(l => Convert.ToDouble(l["throughput_per_s"], CultureInfo.InvariantCulture)).Order().ToArray();
        var summary = new Dictionary<string, object?>(group.First())
        {
            ["summary"] = "median of repetitions",
            ["repetitions"] = throughput.Length,
            ["throughput_per_s"] = Median(throughput),
            ["throughput_min"] = throughput[0],
            ["throughput_max"] = throughput[^1],
        };
        summary.Remove("rep");
        foreach (var key in new[] { "enqueue_per_s", "p50_ms", "p95_ms", "p99_ms", "client_cpu_s", "worker_cpu_s", "redis_cpu_s" })
        {
            if (group.First().GetValueOrDefault(key) is not null)
            {
                summary[key] = Math.Round(Median([.. group.Select(l => Convert.ToDouble(l[key], CultureInfo.InvariantCulture)).Order()]), 3);
            }
        }

        Console.WriteLine(Scenarios.Json(summary));
    }

    return 0;

    static void Emit(List<Dictionary<string, object?>> lines, Dictionary<string, object?> line)
    {
        lines.Add(line);
        Console.WriteLine(Scenarios.Json(line));
    }

    // User and system CPU time of a process so far, from /proc (Linux); 0 elsewhere.
    static double CpuSeconds(int pid)
    {
        try
        {
            var stat = System.IO.File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception ex) when (ex is System.IO.IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    static double Median(double[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;
}

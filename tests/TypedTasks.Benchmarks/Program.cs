using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using BenchmarkDotNet.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks;
using TypedTasks.Benchmarks;
using TypedTasks.Testing;

// dotnet TypedTasks.Benchmarks.dll                                           S1-user, S1-bulk, S2, S3, M1-memory (docs/performance.md)
// dotnet TypedTasks.Benchmarks.dll micro                                     BenchmarkDotNet micro-benchmarks
// dotnet TypedTasks.Benchmarks.dll dashboard                                 D1-dashboard: page server times, commands per view, live cost
// dotnet TypedTasks.Benchmarks.dll limits                                    F1-mixed and F2-fairness: flow control's targets
// dotnet TypedTasks.Benchmarks.dll worker --redis HOST:PORT --prefix P [--queues N] [--jit-report]
//                                                                            a worker process (started by the harness)
// dotnet TypedTasks.Benchmarks.dll producer --redis HOST:PORT --prefix P --n N --task T --settings S
//                                                                            one S1-user run in a fresh process (started by the harness);
//                                                                            ALLOC_TICKS=1: its allocations by type on standard error
// dotnet TypedTasks.Benchmarks.dll celery-worker --redis HOST:PORT --queue Q [--concurrency N]
//                                                                            a .NET worker of a Celery queue (peers/celery-interop/run.sh)
// dotnet TypedTasks.Benchmarks.dll chord-client --redis HOST:PORT --prefix P [--n N] [--pause-ms MS] [--warm-chords W] [--warm-prefix P2]
//                                                                            warm-up (W chords too: to the worker of P2 when given), "warm" on standard error, a pause, one chord (to profile a worker)
return args.FirstOrDefault() switch
{
    "worker" => await RunWorkerAsync(Arg("--redis")!, Arg("--prefix")!, int.Parse(Arg("--concurrency") ?? "64", CultureInfo.InvariantCulture), int.Parse(Arg("--prefetch") ?? "64", CultureInfo.InvariantCulture), int.Parse(Arg("--queues") ?? "1", CultureInfo.InvariantCulture), args.Contains("--jit-report")),
    "producer" => await RunProducerAsync(Arg("--redis")!, Arg("--prefix")!, int.Parse(Arg("--n")!, CultureInfo.InvariantCulture), BenchTask.Get(Arg("--task")), Arg("--settings") ?? string.Empty),
    "chord-client" => await RunChordClientAsync(Arg("--redis")!, Arg("--prefix")!, int.Parse(Arg("--n") ?? "1000", CultureInfo.InvariantCulture), int.Parse(Arg("--pause-ms") ?? "0", CultureInfo.InvariantCulture), int.Parse(Arg("--warm-chords") ?? "0", CultureInfo.InvariantCulture), Arg("--warm-prefix")),
    "celery-worker" => await CeleryBench.RunWorkerAsync(Arg("--redis")!, Arg("--queue")!, int.Parse(Arg("--concurrency") ?? "2", CultureInfo.InvariantCulture)),
    "micro" => RunMicro(args.Skip(1).ToArray()),
    "dashboard" => await DashboardScenario.RunAsync(),
    "limits" => await LimitScenario.RunAsync(),
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

// A worker of the benchmark's tasks; with --queues N it serves "default" and N - 1 more queues.
// With --jit-report it prints "jit <methods the JIT compiled so far>" every half second, for the
// harness to tell when the worker is warm (no more compiling).
static async Task<int> RunWorkerAsync(string redis, string prefix, int concurrency, int prefetch, int queues, bool jitReport)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddTypedTasks(o => o.UseRedis(redis, r => r.KeyPrefix = prefix)).AddWorker(w =>
    {
        w.Concurrency = concurrency;
        w.Prefetch = prefetch;
        w.Queues = ["default", .. Enumerable.Range(1, queues - 1).Select(i => $"q{i}")];
    });
    using var host = builder.Build();
    await host.StartAsync();
    Console.WriteLine("ready");
    using var report = jitReport
        ? new System.Threading.Timer(_ => Console.WriteLine($"jit {System.Runtime.JitInfo.GetCompiledMethodCount()}"), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(500))
        : null;
    await host.WaitForShutdownAsync();
    return 0;
}

// A started host with the Redis client under a prefix, no worker: the producer side of a scenario
// (the harness's, a chord client's, an S1-user producer process's).
static async Task<IHost> StartProducerHostAsync(string endpoint, string prefix)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddTypedTasks(o => o.UseRedis(endpoint, r => r.KeyPrefix = prefix));
    var host = builder.Build();
    await host.StartAsync();
    return host;
}

// One S4 chord against a running worker, for profiling that worker: the usual warm-up, "warm" on
// standard error, a pause (time to attach a profiler), then the chord; its line on standard output.
// The W warm chords go to the worker of --warm-prefix when given (a warm client and a cold worker,
// as in the harness), else to the measured one.
static async Task<int> RunChordClientAsync(string redis, string prefix, int n, int pauseMs, int warmChords, string? warmPrefix)
{
    using var host = await StartProducerHostAsync(redis, prefix);
    var client = host.Services.GetRequiredService<TaskClient>();
    var task = BenchTask.Get(null);
    using (var warmHost = warmPrefix is null ? null : await StartProducerHostAsync(redis, warmPrefix))
    {
        var warmClient = warmHost?.Services.GetRequiredService<TaskClient>() ?? client;
        for (var w = 0; w < warmChords; w++)
        {
            await Scenarios.WarmUpAsync(warmClient, task);
            await Scenarios.ChordAsync(warmClient, task, n, "chord-client");
        }
    }

    await Scenarios.WarmUpAsync(client, task);

    Console.Error.WriteLine("warm");
    await Task.Delay(pauseMs);
    // ALLOC_TICKS=1: what the chord made this process allocate, by type, on standard error.
    using var ticks = Environment.GetEnvironmentVariable("ALLOC_TICKS") == "1" ? new AllocTicks() : null;
    ticks?.Start();
    var line = await Scenarios.ChordAsync(client, task, n, "chord-client");
    if (ticks is not null)
    {
        Console.Error.WriteLine(ticks.Stop(n));
    }

    Console.WriteLine(Scenarios.Json(line));
    await host.StopAsync();
    return 0;
}

// One S1-user run as a user's program makes it: a host with the Redis client, the usual 50
// warm-up round trips (as every peer's client does), then the timed run; one JSON line.
static async Task<int> RunProducerAsync(string redis, string prefix, int n, BenchTask task, string settings)
{
    using var host = await StartProducerHostAsync(redis, prefix);
    await Scenarios.WarmUpAsync(host.Services.GetRequiredService<TaskClient>(), task);
    var process = System.Diagnostics.Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var jitBefore = (Methods: System.Runtime.JitInfo.GetCompiledMethodCount(), Time: System.Runtime.JitInfo.GetCompilationTime());
    var pausedBefore = GC.GetTotalPauseDuration();
    int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    using var ticks = Environment.GetEnvironmentVariable("ALLOC_TICKS") == "1" ? new AllocTicks() : null;
    ticks?.Start();
    var line = await Scenarios.UserAsync(task, n, settings);
    if (ticks is not null)
    {
        Console.Error.WriteLine(ticks.Stop(n));
    }

    var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    process.Refresh();
    // The whole process, start-up, JIT and warm-up included, as the peers' harness counts its client;
    // and the timed run alone (the JIT's background work during it included), per task.
    line["client_cpu_s"] = Math.Round(process.TotalProcessorTime.TotalSeconds, 2);
    line["client_run_cpu_us_per_task"] = Math.Round((process.TotalProcessorTime - cpuBefore).TotalMicroseconds / n, 1);
    line["client_run_alloc_bytes_per_task"] = Math.Round((double)allocated / n);
    // What the JIT compiled during the run (a fresh process compiles its hot code again, optimised).
    line["client_run_jit_methods"] = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore.Methods;
    line["client_run_jit_ms"] = Math.Round((System.Runtime.JitInfo.GetCompilationTime() - jitBefore.Time).TotalMilliseconds);
    line["client_run_gc_pause_ms"] = Math.Round((GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds);
    line["client_run_gcs"] = string.Join("/", Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - collectionsBefore[g]));
    Console.WriteLine(Scenarios.Json(line));
    await host.StopAsync();
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
    var memoryN = Env("MEMORY_N", 100_000);
    var idleSettle = Env("IDLE_SETTLE_S", 30);
    var idleSeconds = Env("IDLE_S", 60);
    var idleQueues = (Environment.GetEnvironmentVariable("IDLE_QUEUES") ?? "1,100").Split(',').Select(int.Parse).ToArray();
    var scenarios = (Environment.GetEnvironmentVariable("SCENARIOS") ?? "S1-user,S1-bulk,M1-memory").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    var unknown = scenarios.Except(["S1-user", "S1-bulk", "M1-memory", "I1-idle", "S4-chord"]).ToArray();
    if (unknown.Length > 0)
    {
        Console.Error.WriteLine($"Unknown scenario {string.Join(", ", unknown)} in SCENARIOS: use S1-user, S1-bulk (with S2 and S3), M1-memory, I1-idle or S4-chord, comma-separated.");
        return 2;
    }

    // The task S1 and S2 send (TASK), and the ones whose memory M1-memory measures (MEMORY_TASKS).
    var task = BenchTask.Get(Environment.GetEnvironmentVariable("TASK"));
    var memoryTasks = (Environment.GetEnvironmentVariable("MEMORY_TASKS") ?? string.Join(",", BenchTask.Choices)).Split(',').Select(BenchTask.Get).ToArray();

    // Runtime settings given to the harness (DOTNET_TieredCompilation=0 and the like) apply to
    // S1-bulk, S2 and S3: this process and their workers. S1-user's producers and worker run
    // with the runtime's defaults, so the settings are taken out of what child processes inherit.
    var tuned = TakeRuntimeSettings();
    var tunedText = tuned.Count == 0 ? "default runtime settings (tiered JIT)" : string.Join(" ", tuned.Select(kv => $"{kv.Key}={kv.Value}"));

    // A fresh redis-server like the peers': loopback, no persistence.
    await using var redis = await RedisServer.StartAsync();
    using var redisAdmin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
    var lines = new List<Dictionary<string, object?>>();
    if (scenarios.Contains("S1-user"))
    {
        // One warm worker for every run; a fresh producer process per run. Warm means its hot code
        // is compiled: a worker that has run one S1-user run still compiles (tiered JIT) through
        // the next ones, at 3 to 5 times the CPU per task of its later runs (docs/performance.md).
        // So the worker runs unmeasured runs until one in which its JIT compiled fewer than 50
        // methods (it reports its count, --jit-report): at least one, at most S1_WARM_MAX (8).
        var settings = $"1 worker process, concurrency {Concurrency}, prefetch {Prefetch}, a fresh producer process per run, "
            + "Tasks.Add.EnqueueAsync per task in Task.WhenAll, results awaited with GetAsync in Task.WhenAll, default runtime settings (tiered JIT) in producer and worker";
        await using var worker = ChildProcess.Start("TypedTasks.Benchmarks", ["worker", "--redis", redis.Endpoint, "--prefix", "user", "--concurrency", $"{Concurrency}", "--prefetch", $"{Prefetch}", "--jit-report"]);
        await worker.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
        // The worker's last count: its report comes every half second, so a second after a run it
        // counts what the run made it compile so far (a recompile the runtime delays past that
        // second counts in the next run's figure). The reports go on in the measured runs: two
        // wake-ups a second beside about 20,000 tasks a second.
        async Task<long> CompiledAsync()
        {
            await Task.Delay(TimeSpan.FromSeconds(1.1));
            var output = worker.Output;
            var last = output.Split('\n').LastOrDefault(l => l.StartsWith("jit ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"The S1-user worker reported no JIT count (has it stopped?):\n{output}");
            return long.Parse(last["jit ".Length..].Trim(), CultureInfo.InvariantCulture);
        }

        var warmRuns = 0;
        var warmCpu = new List<double>();
        var warmJit = new List<long>();
        var compiled = await CompiledAsync();
        while (true)
        {
            var before = CpuSeconds(worker.Id);
            await RunProducerProcessAsync(redis.Endpoint, "user", bulkN, task, settings);
            warmCpu.Add(Math.Round((CpuSeconds(worker.Id) - before) * 1e6 / bulkN, 1));
            var now = await CompiledAsync();
            warmJit.Add(now - compiled);
            compiled = now;
            warmRuns++;
            if (warmRuns >= Env("S1_WARM_MAX", 8) || warmJit[^1] < 50)
            {
                break;
            }
        }

        var warmText = $"the worker warmed by {warmRuns} unmeasured runs (in them its CPU per task: {string.Join(", ", warmCpu.Select(c => $"{c} us"))}; methods its JIT compiled: {string.Join(", ", warmJit)})";
        // The measured runs' commands alone: Redis counts the commands its scripts run too.
        await redisAdmin.GetServer(redis.Endpoint).ExecuteAsync("CONFIG", "RESETSTAT");
        for (var rep = 1; rep <= repeats; rep++)
        {
            int[] pids = [worker.Id, redis.Pid ?? 0];
            var load = LoadAverage();
            var cpuBefore = pids.Select(CpuSeconds).ToArray();
            var line = await RunProducerProcessAsync(redis.Endpoint, "user", bulkN, task, settings);
            var cpu = pids.Select((pid, i) => CpuSeconds(pid) - cpuBefore[i]).ToArray();
            line["loadavg_1m_before"] = load;
            line["worker_cpu_s"] = Math.Round(cpu[0], 2);
            line["worker_cpu_us_per_task"] = Math.Round(cpu[0] * 1e6 / bulkN, 1);
            line["redis_cpu_s"] = Math.Round(cpu[1], 2);
            line["worker_warmup"] = warmText;
            line["rep"] = rep;
            line["workers"] = 1;
            Emit(lines, line);
        }

        Console.WriteLine(Scenarios.Json(await CommandStatsAsync(redisAdmin.GetServer(redis.Endpoint), "S1-user-commands", repeats * bulkN)));
    }

    for (var rep = 1; rep <= repeats && scenarios.Contains("S1-bulk"); rep++)
    {
        foreach (var workers in scaling)
        {
            var prefix = $"b{rep}w{workers}";
            var processes = new List<ChildProcess>();
            for (var w = 0; w < workers; w++)
            {
                var child = ChildProcess.Start("TypedTasks.Benchmarks", ["worker", "--redis", redis.Endpoint, "--prefix", prefix, "--concurrency", $"{Concurrency}", "--prefetch", $"{Prefetch}"], tuned);
                await child.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
                processes.Add(child);
            }

            using var host = await StartProducerHostAsync(redis.Endpoint, prefix);
            var client = host.Services.GetRequiredService<TaskClient>();
            var settings = $"{workers} worker process{(workers > 1 ? "es" : string.Empty)}, concurrency {Concurrency}, prefetch {Prefetch}, {tunedText}";
            // CPU is counted from after a first warm-up, so that it shows the cost per task, not start-up.
            await Scenarios.WarmUpAsync(client, task);
            int[] pids = [Environment.ProcessId, .. processes.Select(p => p.Id), redis.Pid ?? 0];
            var load = LoadAverage();
            var cpuBefore = pids.Select(CpuSeconds).ToArray();
            var bulk = await Scenarios.BulkAsync(client, task, bulkN, workers == 1 ? "S1-bulk" : "S3-scaling", settings);
            var cpu = pids.Select((pid, i) => CpuSeconds(pid) - cpuBefore[i]).ToArray();
            bulk["client_cpu_s"] = Math.Round(cpu[0], 2);
            bulk["worker_cpu_s"] = Math.Round(cpu[1..^1].Sum(), 2);
            bulk["redis_cpu_s"] = Math.Round(cpu[^1], 2);
            bulk["loadavg_1m_before"] = load;
            bulk["rep"] = rep;
            bulk["workers"] = workers;
            Emit(lines, bulk);
            if (workers == 1)
            {
                var scaling1 = new Dictionary<string, object?>(bulk) { ["scenario"] = "S3-scaling" };
                Emit(lines, scaling1);
                await redisAdmin.GetServer(redis.Endpoint).ExecuteAsync("CONFIG", "RESETSTAT");
                var latency = await Scenarios.LatencyAsync(client, task, latencyN, settings);
                latency["rep"] = rep;
                Emit(lines, latency);
                if (rep == 1)
                {
                    // redis-server's share of a round trip (its warm-up's 50 included).
                    Console.WriteLine(Scenarios.Json(await CommandStatsAsync(redisAdmin.GetServer(redis.Endpoint), "S2-latency-commands", latencyN + Scenarios.Warmup)));
                }
            }

            await host.StopAsync();
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    for (var rep = 0; rep <= repeats && scenarios.Contains("S4-chord"); rep++)
    {
        // One worker process per run, as S1-bulk; run 0 warms it up and is not measured.
        var prefix = $"s4r{rep}";
        await using var worker = ChildProcess.Start("TypedTasks.Benchmarks", ["worker", "--redis", redis.Endpoint, "--prefix", prefix, "--concurrency", $"{Concurrency}", "--prefetch", $"{Prefetch}"], tuned);
        await worker.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
        using var host = await StartProducerHostAsync(redis.Endpoint, prefix);
        var client = host.Services.GetRequiredService<TaskClient>();
        var settings = $"1 worker process, concurrency {Concurrency}, prefetch {Prefetch}, {tunedText}";
        await Scenarios.WarmUpAsync(client, task);
        // CHORD_WARMUP chords not counted on each worker first (0 by default: its first chord is measured).
        var chordWarmup = Env("CHORD_WARMUP", 0);
        for (var w = 0; w < chordWarmup; w++)
        {
            await Scenarios.ChordAsync(client, task, Env("CHORD_N", 1000), settings);
        }

        if (chordWarmup > 0)
        {
            settings += $", {chordWarmup} chord(s) not counted first on each worker";
        }

        // The CPU of redis-server and of the worker over the chord: less moved by other work on
        // the machine than its wall time.
        var chordLoad = LoadAverage();
        var workerCpu = Scenarios.ThreadsCpuSeconds(worker.Id);
        var redisCpu = MainThreadCpuSeconds(redis.Pid ?? 0);
        var chord = await Scenarios.ChordAsync(client, task, Env("CHORD_N", 1000), settings);
        chord["worker_cpu_s"] = Math.Round(Scenarios.ThreadsCpuSeconds(worker.Id) - workerCpu, 4);
        chord["redis_cpu_s"] = Math.Round(MainThreadCpuSeconds(redis.Pid ?? 0) - redisCpu, 4);
        chord["loadavg_1m_before"] = chordLoad;
        if (rep > 0)
        {
            chord["rep"] = rep;
            chord["workers"] = 1;
            Emit(lines, chord);
        }
        else
        {
            // The memory of one chord in flight: sent under a prefix no worker serves.
            using var idle = await StartProducerHostAsync(redis.Endpoint, "s4idle");
            var idleClient = idle.Services.GetRequiredService<TaskClient>();
            await Scenarios.WarmUpAsync(client, task);
            Emit(lines, await Scenarios.ChordMemoryAsync(idleClient, task, redisAdmin.GetServer(redis.Endpoint), Env("CHORD_N", 1000), settings));
            await idle.StopAsync();
            // The measured chords' commands alone (their warm-ups included). With S4_SLOWLOG=1,
            // SLOWLOG at 0 us keeps every call, to tell the scripts apart (FCALL counts them all
            // as one); it logs the scripts' own commands too, which slows them: its times are
            // for comparing scripts, not for the totals.
            var admin = redisAdmin.GetServer(redis.Endpoint);
            if (Env("S4_SLOWLOG", 0) == 1)
            {
                await admin.ExecuteAsync("CONFIG", "SET", "slowlog-max-len", "200000");
                await admin.ExecuteAsync("CONFIG", "SET", "slowlog-log-slower-than", "0");
            }

            await admin.ExecuteAsync("SLOWLOG", "RESET");
            await admin.ExecuteAsync("CONFIG", "RESETSTAT");
        }

        await host.StopAsync();
    }

    if (scenarios.Contains("S4-chord") && repeats > 0)
    {
        var admin = redisAdmin.GetServer(redis.Endpoint);
        await admin.ExecuteAsync("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        Console.WriteLine(Scenarios.Json(await CommandStatsAsync(admin, "S4-chord-commands", repeats * Env("CHORD_N", 1000))));
        if (Env("S4_SLOWLOG", 0) == 1)
        {
            Console.WriteLine(Scenarios.Json(await ScriptStatsAsync(admin, "S4-chord-scripts", repeats * Env("CHORD_N", 1000))));
        }
    }

    foreach (var memoryTask in scenarios.Contains("M1-memory") ? memoryTasks : [])
    {
        // Its own fresh redis-server and no worker, so that every byte added is a pending task's.
        await using var memoryRedis = await RedisServer.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        // No worker serves the queue on purpose: the producer's warning about that is expected.
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Services.AddTypedTasks(o => o.UseRedis(memoryRedis.Endpoint));
        using var host = builder.Build();
        await host.StartAsync();
        // INFO is an admin command for StackExchange.Redis.
        using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{memoryRedis.Endpoint},allowAdmin=true");
        var memory = await Scenarios.MemoryAsync(host.Services.GetRequiredService<TaskClient>(), memoryTask, connection.GetServer(memoryRedis.Endpoint), connection.GetDatabase(), memoryN,
            "fresh redis-server, no worker, default key prefix and options, EnqueueManyAsync in chunks of 1000");
        Console.WriteLine(Scenarios.Json(memory));
        if (memoryTask.Choice == task.Choice)
        {
            // The enqueue side alone: what redis-server did per task for the memory run's enqueues.
            Console.WriteLine(Scenarios.Json(await CommandStatsAsync(connection.GetServer(memoryRedis.Endpoint), "M1-memory-commands", memoryN)));
        }
        await host.StopAsync();
    }

    foreach (var queues in scenarios.Contains("I1-idle") ? idleQueues : [])
    {
        // An idle worker: its own fresh redis-server, nothing sent; after start-up and a settling
        // time, its CPU from /proc and the commands redis-server served (INFO commandstats, after
        // CONFIG RESETSTAT) over the same window, the harness's own INFO and CONFIG calls left out.
        await using var idleRedis = await RedisServer.StartAsync();
        using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{idleRedis.Endpoint},allowAdmin=true");
        var server = connection.GetServer(idleRedis.Endpoint);
        await using var worker = ChildProcess.Start("TypedTasks.Benchmarks", ["worker", "--redis", idleRedis.Endpoint, "--prefix", "tt", "--queues", $"{queues}"]);
        await worker.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(idleSettle));
        await server.ExecuteAsync("CONFIG", "RESETSTAT");
        int[] pids = [worker.Id, idleRedis.Pid ?? 0];
        var load = LoadAverage();
        var cpuBefore = pids.Select(CpuSeconds).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (sent, inScripts) = await MonitorAsync(idleRedis.Port, TimeSpan.FromSeconds(idleSeconds));
        var cpu = pids.Select((pid, i) => CpuSeconds(pid) - cpuBefore[i]).ToArray();
        var seconds = clock.Elapsed.TotalSeconds;
        var stats = (await server.InfoAsync("commandstats")).SelectMany(g => g)
            .Select(kv => (Command: kv.Key["cmdstat_".Length..], Calls: long.Parse(kv.Value.Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture)))
            .Where(c => c.Command is not ("info" or "config|resetstat" or "monitor"))
            .OrderByDescending(c => c.Calls)
            .ToArray();
        var line = new Dictionary<string, object?>
        {
            ["system"] = "typedtasks",
            ["version"] = typeof(TaskClient).Assembly.GetName().Version?.ToString(3),
            ["scenario"] = "I1-idle",
            ["queues"] = queues,
            ["window_s"] = Math.Round(seconds, 1),
            ["worker_cpu_s"] = Math.Round(cpu[0], 2),
            ["worker_core_percent"] = Math.Round(100 * cpu[0] / seconds, 2),
            ["redis_cpu_s"] = Math.Round(cpu[1], 2),
            ["redis_commands_per_s"] = Math.Round(stats.Sum(c => c.Calls) / seconds, 2),
            ["redis_commands"] = string.Join(" ", stats.Select(c => $"{c.Command}={c.Calls}")),
            ["sent_per_s"] = Math.Round(sent.Values.Sum() / seconds, 2),
            ["in_scripts_per_s"] = Math.Round(inScripts.Values.Sum() / seconds, 2),
            ["sent_commands"] = string.Join(" ", sent.OrderByDescending(c => c.Value).Select(c => $"{c.Key}={c.Value}")),
            ["loadavg_1m_before"] = load,
            ["settings"] = $"1 idle worker process serving {queues} queue{(queues > 1 ? "s" : string.Empty)}, concurrency 64, prefetch 64, other worker and Redis options at their defaults, default runtime settings, "
                + $"measured over {idleSeconds} s starting {idleSettle} s after it was ready, its own fresh redis-server",
        };
        Console.WriteLine(Scenarios.Json(line));
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
        foreach (var key in new[] { "enqueue_per_s", "p50_ms", "p95_ms", "p99_ms", "client_cpu_s", "worker_cpu_s", "redis_cpu_s", "client_run_cpu_us_per_task", "client_run_alloc_bytes_per_task", "client_run_jit_methods", "client_run_jit_ms", "client_run_gc_pause_ms", "worker_cpu_us_per_task" })
        {
            if (group.First().GetValueOrDefault(key) is not null)
            {
                summary[key] = Math.Round(Median([.. group.Select(l => Convert.ToDouble(l[key], CultureInfo.InvariantCulture)).Order()]), 4);
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

    // Starts one S1-user producer process and returns its line; bounded like the peers' clients.
    static async Task<Dictionary<string, object?>> RunProducerProcessAsync(string redis, string prefix, int n, BenchTask task, string settings)
    {
        await using var producer = ChildProcess.Start("TypedTasks.Benchmarks", ["producer", "--redis", redis, "--prefix", prefix, "--n", $"{n}", "--task", task.Choice, "--settings", settings]);
        if (!await producer.WaitForExitAsync(TimeSpan.FromMinutes(10)) || producer.ExitCode != 0)
        {
            throw new InvalidOperationException($"An S1-user producer process failed or ran over 10 minutes:\n{producer.Output}");
        }

        var json = producer.Output.Split('\n').Last(l => l.StartsWith('{'));
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!.ToDictionary(
            kv => kv.Key,
            kv => kv.Value.ValueKind switch
            {
                JsonValueKind.Number => kv.Value.GetDouble(),
                JsonValueKind.String => kv.Value.GetString(),
                JsonValueKind.True or JsonValueKind.False => kv.Value.GetBoolean(),
                _ => (object?)null,
            });
    }

    // The runtime's JIT and GC knobs in this process's environment, removed from it so that child
    // processes start without them unless given them explicitly.
    static Dictionary<string, string> TakeRuntimeSettings()
    {
        string[] knobs = ["TieredCompilation", "TieredPGO", "TC_", "ReadyToRun", "OSR_", "gc", "GC"];
        var taken = new Dictionary<string, string>();
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            var knob = name.StartsWith("DOTNET_", StringComparison.Ordinal) ? name["DOTNET_".Length..] : name.StartsWith("COMPlus_", StringComparison.Ordinal) ? name["COMPlus_".Length..] : null;
            if (knob is not null && knobs.Any(k => knob.StartsWith(k, StringComparison.Ordinal)))
            {
                taken[name] = (string)entry.Value!;
                Environment.SetEnvironmentVariable(name, null);
            }
        }

        return taken;
    }

    // What redis-server did per task, by command (INFO commandstats since the last reset; a
    // script's own commands are counted under their names as well as under FCALL or EVALSHA;
    // evalsha_usec_per_task is every script call's time, whichever way it was sent).
    static async Task<Dictionary<string, object?>> CommandStatsAsync(StackExchange.Redis.IServer server, string scenario, int tasks)
    {
        var stats = (await server.InfoAsync("commandstats")).SelectMany(g => g)
            .Select(kv => (Command: kv.Key["cmdstat_".Length..], Fields: kv.Value.Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture))))
            .Where(c => c.Command is not ("info" or "config|resetstat" or "config|set" or "slowlog|get"))
            .OrderByDescending(c => c.Fields["usec"])
            .ToArray();
        return new Dictionary<string, object?>
        {
            ["system"] = "typedtasks",
            ["scenario"] = scenario,
            ["tasks"] = tasks,
            ["evalsha_usec_per_task"] = Math.Round(stats.Where(c => c.Command is "fcall" or "evalsha" or "eval").Sum(c => c.Fields["usec"]) / tasks, 2),
            ["per_task"] = string.Join(" ", stats.Select(c => $"{c.Command}: {c.Fields["calls"] / tasks:0.###} calls, {c.Fields["usec"] / tasks:0.##} us")),
        };
    }

    // The script calls SLOWLOG kept, by function: calls, their time, and the arguments they
    // carried (SLOWLOG keeps 32 of a call's arguments and counts the rest in its last one).
    static async Task<Dictionary<string, object?>> ScriptStatsAsync(StackExchange.Redis.IServer server, string scenario, int tasks)
    {
        var entries = (StackExchange.Redis.RedisResult[])(await server.ExecuteAsync("SLOWLOG", "GET", "-1"))!;
        var calls = new Dictionary<string, (long Calls, long Usec, long Args)>();
        foreach (var entry in entries.Select(e => (StackExchange.Redis.RedisResult[])e!))
        {
            var words = ((StackExchange.Redis.RedisResult[])entry[3]!).Select(a => (string)a!).ToArray();
            if (words.Length < 2 || !words[0].Equals("fcall", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var more = System.Text.RegularExpressions.Regex.Match(words[^1], @"^\.\.\. \((\d+) more arguments\)$");
            var args = more.Success ? words.Length - 1 + long.Parse(more.Groups[1].Value, CultureInfo.InvariantCulture) : words.Length;
            var (n, usec, total) = calls.GetValueOrDefault(words[1]);
            calls[words[1]] = (n + 1, usec + (long)entry[2], total + args);
        }

        return new Dictionary<string, object?>
        {
            ["system"] = "typedtasks",
            ["scenario"] = scenario,
            ["tasks"] = tasks,
            ["slowlog_entries"] = entries.Length,
            ["by_function"] = string.Join(" ", calls.OrderByDescending(c => c.Value.Usec).Select(c =>
                $"{c.Key}: {c.Value.Calls} calls, {c.Value.Usec / 1000.0:0.#} ms, {(double)c.Value.Usec / c.Value.Calls:0.#} us/call, {(double)c.Value.Args / c.Value.Calls:0.#} args/call")),
        };
    }

    // MONITOR on its own connection for the window: commands by name, those a client sent apart
    // from those a script ran ("[db lua]"); the harness's own INFO and CONFIG are left out.
    static async Task<(Dictionary<string, long> Sent, Dictionary<string, long> InScripts)> MonitorAsync(int port, TimeSpan window)
    {
        var sent = new Dictionary<string, long>();
        var inScripts = new Dictionary<string, long>();
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync("*1\r\n$7\r\nMONITOR\r\n"u8.ToArray());
        using var reader = new System.IO.StreamReader(stream);
        using var stop = new System.Threading.CancellationTokenSource(window);
        try
        {
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                var open = line.IndexOf('[', StringComparison.Ordinal);
                var close = open < 0 ? -1 : line.IndexOf(']', open);
                var quote = close < 0 ? -1 : line.IndexOf('"', close);
                var end = quote < 0 ? -1 : line.IndexOf('"', quote + 1);
                if (end < 0)
                {
                    continue;
                }

                var command = line[(quote + 1)..end].ToLowerInvariant();
                if (command is "info" or "config")
                {
                    continue;
                }

                var counts = line[open..close].EndsWith(" lua", StringComparison.Ordinal) ? inScripts : sent;
                counts[command] = counts.GetValueOrDefault(command) + 1;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return (sent, inScripts);
    }

    // The 1-minute load average (Linux), as the peers' lines carry it, to spot other work on the machine.
    static double? LoadAverage()
    {
        try
        {
            return double.Parse(System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (System.IO.IOException)
        {
            return null;
        }
    }

    // User and system CPU time of a process so far, from /proc (Linux); 0 elsewhere.
    // The CPU time of a process's main thread in nanoseconds (/proc/<pid>/schedstat), finer
    // than the clock ticks of CpuSeconds: redis-server runs its commands on that thread.
    static double MainThreadCpuSeconds(int pid)
    {
        try
        {
            return long.Parse(System.IO.File.ReadAllText($"/proc/{pid}/schedstat").Split(' ')[0], CultureInfo.InvariantCulture) / 1e9;
        }
        catch (Exception ex) when (ex is System.IO.IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

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

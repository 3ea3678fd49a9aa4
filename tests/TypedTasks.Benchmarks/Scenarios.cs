using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Benchmarks;

/// <summary>
/// S1-user, S1 bulk, S2 latency, S3 scaling and the memory per pending task, as
/// ../shared/bench/README.md defines them, timed on the producer side against workers in other
/// processes. Each returns one result line.
/// </summary>
internal static class Scenarios
{
    public const int Warmup = 50;

    /// <summary>S1: the caller has warmed up (<see cref="WarmUpAsync"/>), as the peers do, with 50 tasks.</summary>
    public static async Task<Dictionary<string, object?>> BulkAsync(TaskClient client, BenchTask task, int n, string scenario, string settings)
    {
        var clock = Stopwatch.StartNew();
        var handles = new List<AsyncResult<int>>(n);
        for (var start = 0; start < n; start += 1000)
        {
            handles.AddRange(await task.EnqueueMany(client, Enumerable.Range(start, Math.Min(1000, n - start)).Select(i => (i, i))));
        }

        var enqueued = clock.Elapsed;
        var results = await Task.WhenAll(handles.Select(h => h.GetAsync(TimeSpan.FromMinutes(5))));
        var total = clock.Elapsed;
        Verify(results.Select((r, i) => r == 2 * i).All(ok => ok), "a bulk result was wrong");
        return Line(scenario, task, n, n / enqueued.TotalSeconds, n / total.TotalSeconds, null, settings + ", EnqueueManyAsync in chunks of 1000, results awaited with GetAsync",
            ("enqueue_s", Math.Round(enqueued.TotalSeconds, 4)), ("total_s", Math.Round(total.TotalSeconds, 4)));
    }

    /// <summary>
    /// S1-user, run in a fresh producer process: the program a user writes, one
    /// <c>Tasks.Add.EnqueueAsync</c> per task in <see cref="Task.WhenAll(IEnumerable{Task})"/> on the
    /// client the host set up, then every result awaited. The caller has warmed up.
    /// </summary>
    public static async Task<Dictionary<string, object?>> UserAsync(BenchTask task, int n, string settings)
    {
        var clock = Stopwatch.StartNew();
        var handles = await Task.WhenAll(Enumerable.Range(0, n).Select(i => task.Enqueue(null, i, i)));
        var enqueued = clock.Elapsed;
        var results = await Task.WhenAll(handles.Select(h => h.GetAsync(TimeSpan.FromMinutes(5))));
        var total = clock.Elapsed;
        Verify(results.Select((r, i) => r == 2 * i).All(ok => ok), "an S1-user result was wrong");
        return Line("S1-user", task, n, n / enqueued.TotalSeconds, n / total.TotalSeconds, null, settings,
            ("enqueue_s", Math.Round(enqueued.TotalSeconds, 4)), ("total_s", Math.Round(total.TotalSeconds, 4)));
    }

    // The CPU time of every live thread of a process (/proc/<pid>/task/*/schedstat), finer than
    // CpuSeconds' clock ticks; a thread that ends between two reads takes its time with it.
    public static double ThreadsCpuSeconds(int pid)
    {
        try
        {
            return System.IO.Directory.GetDirectories($"/proc/{pid}/task").Sum(task =>
            {
                try
                {
                    return long.Parse(System.IO.File.ReadAllText($"{task}/schedstat").Split(' ')[0], CultureInfo.InvariantCulture) / 1e9;
                }
                catch (Exception ex) when (ex is System.IO.IOException or UnauthorizedAccessException or FormatException)
                {
                    return 0;
                }
            });
        }
        catch (Exception ex) when (ex is System.IO.IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// S4-chord: a chord of <paramref name="n"/> <c>bench.add</c> members and a <c>bench.sum</c>
    /// callback, end to end: from the first byte sent to the callback's result in hand.
    /// </summary>
    public static async Task<Dictionary<string, object?>> ChordAsync(TaskClient client, BenchTask task, int n, string settings)
    {
        var cpu = ThreadsCpuSeconds(Environment.ProcessId);
        var jit = System.Runtime.JitInfo.GetCompilationTime();
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var collections = GC.CollectionCount(0);
        var clock = Stopwatch.StartNew();
        var chord = await Workflows.TaskGroup.Of(Enumerable.Range(0, n).Select(i => Tasks.Add.WithClient(client).Call(i, i))).Then(Tasks.Sum).EnqueueAsync();
        var sent = clock.Elapsed;
        var sendCpu = ThreadsCpuSeconds(Environment.ProcessId);
        var sum = await chord.GetAsync(TimeSpan.FromMinutes(5));
        var total = clock.Elapsed;
        Verify(sum == (long)n * (n - 1), "the chord's sum was wrong");
        return Line("S4-chord", task, n, null, n / total.TotalSeconds, null, settings + ", TaskGroup.Of(calls).Then(Tasks.Sum).EnqueueAsync(), the callback's result awaited",
            ("send_s", Math.Round(sent.TotalSeconds, 4)), ("total_s", Math.Round(total.TotalSeconds, 4)),
            ("client_send_cpu_s", Math.Round(sendCpu - cpu, 4)), ("client_wait_cpu_s", Math.Round(ThreadsCpuSeconds(Environment.ProcessId) - sendCpu, 4)),
            ("client_jit_ms", Math.Round((System.Runtime.JitInfo.GetCompilationTime() - jit).TotalMilliseconds, 1)),
            ("client_allocated_kb", (GC.GetTotalAllocatedBytes(precise: false) - allocated) / 1024), ("client_gen0", GC.CollectionCount(0) - collections));
    }

    /// <summary>
    /// Memory of a chord of <paramref name="n"/> members in flight: <c>used_memory</c> before and
    /// after it is sent to a prefix no worker serves (members pending, join waiting).
    /// </summary>
    public static async Task<Dictionary<string, object?>> ChordMemoryAsync(TaskClient client, BenchTask task, IServer server, int n, string settings)
    {
        var before = await UsedMemoryAsync(server);
        await Workflows.TaskGroup.Of(Enumerable.Range(0, n).Select(i => Tasks.Add.WithClient(client).Call(i, i))).Then(Tasks.Sum).EnqueueAsync();
        var after = await UsedMemoryAsync(server);
        return Line("M4-chord-memory", task, n, null, null, null, settings + ", one chord in flight, no worker: members pending, the join waiting",
            ("bytes", after - before), ("bytes_per_member", Math.Round((after - before) / (double)n, 1)));
    }

    /// <summary>
    /// Memory per pending task: <c>used_memory</c> of the caller's fresh redis-server before and
    /// after <paramref name="n"/> <c>Add</c> tasks that no worker takes, per task.
    /// </summary>
    public static async Task<Dictionary<string, object?>> MemoryAsync(TaskClient client, BenchTask task, IServer server, IDatabase db, int n, string settings)
    {
        var before = await UsedMemoryAsync(server);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        for (var start = 0; start < n; start += 1000)
        {
            sent += (await task.EnqueueMany(client, Enumerable.Range(start, Math.Min(1000, n - start)).Select(i => (i, i)))).Count;
        }

        var enqueued = clock.Elapsed;
        var after = await UsedMemoryAsync(server);
        Verify(sent == n, "not every task of the memory scenario was enqueued");
        var (record, inline) = await LastRecordAsync(server, db);
        var line = Line("M1-memory", task, n, n / enqueued.TotalSeconds, null, null, settings,
            ("used_memory_before", before), ("used_memory_after", after), ("bytes_per_task", Math.Round((double)(after - before) / n, 1)),
            ("record_bytes", record), ("envelope_bytes", record - RecordHeaderBytes), ("record_inline", inline));
        return line;
    }

    /// <summary>A pending record is this many bytes before its envelope (Store/Scripts/shared.lua).</summary>
    private const int RecordHeaderBytes = 22;

    /// <summary>
    /// The size of the last task's record as Redis holds it, read from the store's keys (decision
    /// 0001): its field in the newest bucket, or its side key when the bucket holds the marker.
    /// </summary>
    private static async Task<(long Bytes, bool Inline)> LastRecordAsync(IServer server, IDatabase db)
    {
        var seqKey = server.Keys(pattern: "*:seq").Single();
        var prefix = ((string)seqKey!)[..^"seq".Length];
        var last = (long)await db.HashGetAsync(seqKey, "next");
        var field = await db.HashGetAsync($"{prefix}t:{last >> 7}", last);
        Verify(field.HasValue, "the last task's record is not in its bucket");
        return field == "x" ? (await db.StringLengthAsync($"{prefix}x:{last}"), false) : (((byte[])field!).Length, true);
    }

    private static async Task<long> UsedMemoryAsync(IServer server)
    {
        var sections = await server.InfoAsync("memory");
        var value = sections.SelectMany(g => g).First(kv => kv.Key == "used_memory").Value;
        return long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<Dictionary<string, object?>> LatencyAsync(TaskClient client, BenchTask task, int n, string settings)
    {
        await WarmUpAsync(client, task);
        var latencies = new double[n];
        var enqueueCalls = new double[n];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var handle = await task.Enqueue(client, i, i);
            enqueueCalls[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var value = await handle.GetAsync(TimeSpan.FromSeconds(30));
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Verify(value == 2 * i, "a latency result was wrong");
        }

        var total = clock.Elapsed;
        Array.Sort(latencies);
        Array.Sort(enqueueCalls);
        return Line("S2-latency", task, n, null, n / total.TotalSeconds, latencies, settings + ", EnqueueAsync then GetAsync, one at a time",
            ("mean_ms", Math.Round(latencies.Average(), 3)), ("max_ms", Math.Round(latencies[^1], 3)), ("enqueue_call_p50_ms", Math.Round(Percentile(enqueueCalls, 50), 3)));
    }

    /// <summary>Nearest-rank percentile, the definition every harness here uses.</summary>
    public static double Percentile(double[] sorted, double p) => sorted[Math.Max(1, (int)Math.Ceiling(p / 100 * sorted.Length)) - 1];

    public static async Task WarmUpAsync(TaskClient client, BenchTask task)
    {
        for (var i = 0; i < Warmup; i++)
        {
            Verify(await (await task.Enqueue(client, i, 1)).GetAsync(TimeSpan.FromSeconds(60)) == i + 1, "a warm-up result was wrong");
        }
    }

    private static Dictionary<string, object?> Line(string scenario, BenchTask task, int n, double? enqueuePerSecond, double? throughput, double[]? sorted, string settings, params (string Key, object Value)[] extra)
    {
        var line = new Dictionary<string, object?>
        {
            ["system"] = "typedtasks",
            ["version"] = typeof(TaskClient).Assembly.GetName().Version?.ToString(3),
            ["scenario"] = scenario,
            ["n"] = n,
            ["enqueue_per_s"] = enqueuePerSecond is { } e ? Math.Round(e, 1) : null,
            ["throughput_per_s"] = throughput is { } t ? Math.Round(t, 1) : null,
            ["p50_ms"] = sorted is null ? null : Math.Round(Percentile(sorted, 50), 3),
            ["p95_ms"] = sorted is null ? null : Math.Round(Percentile(sorted, 95), 3),
            ["p99_ms"] = sorted is null ? null : Math.Round(Percentile(sorted, 99), 3),
            ["settings"] = settings,
            ["task_name"] = task.Descriptor.Name,
        };
        foreach (var (key, value) in extra)
        {
            line[key] = value;
        }

        return line;
    }

    public static void Verify(bool ok, string what)
    {
        if (!ok)
        {
            throw new InvalidOperationException(what);
        }
    }

    public static string Json(Dictionary<string, object?> line) => JsonSerializer.Serialize(line);
}

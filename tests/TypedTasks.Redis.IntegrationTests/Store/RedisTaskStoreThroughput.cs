using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using Xunit.Abstractions;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// End to end through the store as a worker drives it: producers that await one EnqueueAsync per
/// task, fetchers that start up to 64 at once, and one CompleteAsync per task from as many
/// concurrent executors. Reports the rate (no timed assertion); checks every task succeeded.
/// </summary>
public sealed class RedisTaskStoreThroughput(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Throughput")]
    [InlineData("small")]
    [InlineData("v2")]
    [InlineData("v1")]
    public async Task Per_call_enqueues_fetches_and_completions_all_succeed(string envelopeKind)
    {
        const int Total = 100_000;
        const int Producers = 64;
        const int Fetchers = 4;
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "tp" });
        var envelope = Of(envelopeKind);
        var memoryBefore = await UsedMemoryAsync(connection);
        var callsBefore = await CallsAsync(connection);
        var serverCpuBefore = await ServerCpuAsync(connection);
        var completed = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();

        var sent = 0;
        var producers = Enumerable.Range(0, Producers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Total)
            {
                await store.EnqueueAsync("bench", new TaskToEnqueue(envelope, 0));
            }
        })).ToArray();

        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetchers = Enumerable.Range(0, Fetchers).Select(_ => Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var leases = await store.FetchAsync(["bench"], 64, stop.Token);
                    await Task.WhenAll(leases.Select(lease => Task.Run(async () =>
                    {
                        if (await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })) && Interlocked.Increment(ref completed) == Total)
                        {
                            allDone.TrySetResult();
                        }
                    })));
                }
            }
            catch (OperationCanceledException)
            {
                // All done: the idle fetches are stopped.
            }
        })).ToArray();

        await Task.WhenAll(producers);
        var enqueued = watch.Elapsed;
        await allDone.Task.WaitAsync(TimeSpan.FromMinutes(3));
        watch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var serverCpuAfter = await ServerCpuAsync(connection);
        var serverCpu = (User: serverCpuAfter.User - serverCpuBefore.User, System: serverCpuAfter.System - serverCpuBefore.System);
        await stop.CancelAsync();
        await Task.WhenAll(fetchers);
        var calls = await CallsAsync(connection);
        var memory = await UsedMemoryAsync(connection) - memoryBefore;
        var perTask = string.Join(", ", calls.Where(c => c.Value != callsBefore.GetValueOrDefault(c.Key)).OrderByDescending(c => c.Value - callsBefore.GetValueOrDefault(c.Key))
            .Select(c => $"{c.Key} {(c.Value - callsBefore.GetValueOrDefault(c.Key)) / (double)Total:F2}"));
        output.WriteLine($"{Total} tasks ({envelope.Length}-byte envelopes, worker {Worker.WorkerIdentity.Name}): enqueued in {enqueued.TotalSeconds:F2} s ({Total / enqueued.TotalSeconds:F0}/s), all succeeded in {watch.Elapsed.TotalSeconds:F2} s ({Total / watch.Elapsed.TotalSeconds:F0} tasks/s end to end); CPU of this process (producers and worker): {cpu.TotalMicroseconds / Total:F1} µs per task");
        output.WriteLine($"Redis commands per task (INFO commandstats, script calls and the commands they run): {perTask}");
        output.WriteLine($"redis-server CPU (INFO cpu): {(serverCpu.User + serverCpu.System) * 1e6 / Total:F1} µs per task ({serverCpu.User * 1e6 / Total:F1} user, {serverCpu.System * 1e6 / Total:F1} system)");
        output.WriteLine($"used_memory after all succeeded: {memory / (double)Total:F1} B per task");
        Assert.Equal(Total, completed);
        Assert.Equal(0, (await store.CountAsync("bench")).Pending);
    }

    [Theory]
    [Trait("Category", "Throughput")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pending_tasks_take_the_memory_reported(bool versionOneEnvelope)
    {
        const int Total = 100_000;
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "tt" });
        long Used() => long.Parse(connection.GetServer(server.Endpoint).Info("memory").SelectMany(g => g).First(p => p.Key == "used_memory").Value, System.Globalization.CultureInfo.InvariantCulture);
        var before = Used();
        for (var i = 0; i < Total; i += 1000)
        {
            await store.EnqueueManyAsync("q", [.. Enumerable.Range(i, 1000).Select(n => new TaskToEnqueue(versionOneEnvelope ? Envelope("Add", n) : Small(n), 0))]);
        }

        var perTask = (Used() - before) / (double)Total;
        output.WriteLine($"{(versionOneEnvelope ? "version-1 envelope (" + Envelope("Add").Length + " B)" : "7-byte envelope")}: {perTask:F1} B per pending task");
        Assert.Equal(Total, (await store.CountAsync("q")).Pending);
    }

    private static byte[] Of(string kind) => kind switch
    {
        "small" => Small(),
        "v2" => VersionTwo(),
        _ => Envelope("Add", queue: "bench"),
    };

    private static async Task<long> UsedMemoryAsync(ConnectionMultiplexer connection)
    {
        var info = (string)(await connection.GetDatabase().ExecuteAsync("INFO", "memory"))!;
        var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return long.Parse(line["used_memory:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The CPU seconds redis-server has used so far (INFO cpu: used_cpu_user, used_cpu_sys).</summary>
    private static async Task<(double User, double System)> ServerCpuAsync(ConnectionMultiplexer connection)
    {
        var info = (string)(await connection.GetDatabase().ExecuteAsync("INFO", "cpu"))!;
        double Field(string name) => double.Parse(info.Split('\n').First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return (Field("used_cpu_user"), Field("used_cpu_sys"));
    }

    /// <summary>Calls per command so far (INFO commandstats: a script call and each command it runs count).</summary>
    private static async Task<Dictionary<string, long>> CallsAsync(ConnectionMultiplexer connection)
    {
        var info = (string)(await connection.GetDatabase().ExecuteAsync("INFO", "commandstats"))!;
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n'))
        {
            // cmdstat_hset:calls=12,usec=...
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && line.IndexOf(":calls=", StringComparison.Ordinal) is var at and > 0)
            {
                var end = line.IndexOf(',', at);
                calls[line[8..at]] = long.Parse(line[(at + 7)..end], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        calls.Remove("info");
        return calls;
    }
}

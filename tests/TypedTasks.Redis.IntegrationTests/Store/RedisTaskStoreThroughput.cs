using System;
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
public sealed class RedisTaskStoreThroughput(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    [Fact]
    [Trait("Category", "Throughput")]
    public async Task Per_call_enqueues_fetches_and_completions_all_succeed()
    {
        const int Total = 100_000;
        const int Producers = 64;
        const int Fetchers = 4;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Environment.GetEnvironmentVariable("TP_REDIS") ?? redis.Server.Endpoint);
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "tp" + Guid.NewGuid().ToString("N")[..8] });
        var envelope = Envelope("Add", queue: "bench");
        var completed = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var watch = Stopwatch.StartNew();

        var sent = 0;
        var producers = Enumerable.Range(0, Producers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Total)
            {
                await store.EnqueueAsync("bench", new TaskToEnqueue(envelope, 0));
            }
        })).ToArray();

        var fetchers = Enumerable.Range(0, Fetchers).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref completed) < Total && !stop.IsCancellationRequested)
            {
                var leases = await store.FetchAsync(["bench"], 64, stop.Token);
                await Task.WhenAll(leases.Select(lease => Task.Run(async () =>
                {
                    if (await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })))
                    {
                        Interlocked.Increment(ref completed);
                    }
                })));
            }
        })).ToArray();

        await Task.WhenAll(producers);
        var enqueued = watch.Elapsed;
        await Task.WhenAll(fetchers).WaitAsync(TimeSpan.FromMinutes(3));
        watch.Stop();
        output.WriteLine($"{Total} tasks: enqueued in {enqueued.TotalSeconds:F2} s ({Total / enqueued.TotalSeconds:F0}/s), all succeeded in {watch.Elapsed.TotalSeconds:F2} s ({Total / watch.Elapsed.TotalSeconds:F0} tasks/s end to end)");
        Assert.Equal(Total, completed);
        Assert.Equal(0, (await store.CountAsync("bench")).Pending);
    }
}

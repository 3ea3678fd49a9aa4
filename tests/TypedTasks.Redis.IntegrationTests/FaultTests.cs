using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.TestWorker;

using TypedTasks.Testing;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// Nothing is lost when a worker process is killed with SIGKILL or Redis itself is killed and
/// restarted: real processes, killed by PID.
/// </summary>
public sealed class FaultTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_worker_killed_with_SIGKILL_loses_nothing_and_a_second_worker_recovers_its_tasks_within_30_s()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var first = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);

        const int count = 3000;
        var proxy = Tasks.SlowAdd.WithClient(producer.Client);
        var handles = await Task.WhenAll(Enumerable.Range(0, count).Select(i => proxy.EnqueueAsync(i, i, 15)));

        // Kill it in the middle of the run: some done, many in flight or waiting.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await handles[100].GetStateAsync() != TaskState.Succeeded)
        {
            Assert.True(DateTime.UtcNow < deadline, "The first worker never got going:\n" + first.Output);
            await Task.Delay(20);
        }

        first.Kill();
        var killedAt = Stopwatch.StartNew();
        var states = await Task.WhenAll(handles.Select(h => h.GetStateAsync().AsTask()));
        Assert.True(states.Count(s => s != TaskState.Succeeded) > 0, "The worker finished everything before it was killed; the test proves nothing.");
        Assert.Contains(TaskState.Started, states);

        await using var second = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);
        var results = await Task.WhenAll(handles.Select(h => h.GetAsync(TimeSpan.FromSeconds(90))));
        var recoveredWithin = killedAt.Elapsed;

        Assert.Equal(Enumerable.Range(0, count).Select(i => 2L * i), results);
        output.WriteLine($"SIGKILL: {states.Count(s => s != TaskState.Succeeded)} of {count} tasks unfinished at the kill ({states.Count(s => s == TaskState.Started)} Started); all {count} succeeded {recoveredWithin.TotalSeconds:0.0} s after the kill.");
        Assert.True(recoveredWithin < TimeSpan.FromSeconds(30), $"Every task was done {recoveredWithin} after the kill.");
        Assert.False(second.HasExited);
    }

    [Fact]
    public async Task Redis_killed_and_restarted_with_AOF_loses_no_task_and_the_worker_process_stays_up()
    {
        await using var redis = await RedisServer.StartAsync(durable: true);
        Assert.True(File.Exists(Path.Combine(redis.Directory, "appendonlydir", "appendonly.aof.1.incr.aof")) || Directory.Exists(Path.Combine(redis.Directory, "appendonlydir")), "AOF is not on.");
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        await using var worker = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);
        var proxy = Tasks.SlowAdd.WithClient(producer.Client);

        var before = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => proxy.EnqueueAsync(i, 1, 5)));
        await Task.Delay(300); // part of them done, part in flight, part waiting
        await redis.RestartAsync(TimeSpan.FromSeconds(1));
        var after = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => proxy.EnqueueAsync(i, 2, 5)));

        var restarted = Stopwatch.StartNew();
        var beforeResults = await Task.WhenAll(before.Select(h => h.GetAsync(TimeSpan.FromSeconds(90))));
        var afterResults = await Task.WhenAll(after.Select(h => h.GetAsync(TimeSpan.FromSeconds(90))));
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), beforeResults);
        Assert.Equal(Enumerable.Range(2, 1000).Select(i => (long)i), afterResults);
        Assert.False(worker.HasExited, "The worker process exited:\n" + worker.Output);
        output.WriteLine($"Redis restart: all 2,000 tasks succeeded {restarted.Elapsed.TotalSeconds:0.0} s after Redis came back.");
    }

    [Fact]
    public async Task SIGTERM_stops_a_worker_gracefully_and_its_prefetched_tasks_go_back_to_the_head_of_the_queue()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var worker = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix, concurrency: 1);

        // One long task running, several waiting in the worker's prefetch buffer.
        var running = await Tasks.SlowAdd.WithClient(producer.Client).EnqueueAsync(1, 1, 1500);
        var waiting = await Tasks.SlowAdd.WithClient(producer.Client).EnqueueManyAsync(Enumerable.Range(0, 6).Select(i => ((long)i, 0L, 1)));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await running.GetStateAsync() != TaskState.Started)
        {
            Assert.True(DateTime.UtcNow < deadline, "The task never started:\n" + worker.Output);
            await Task.Delay(20);
        }

        await Task.Delay(200); // let the fetcher prefetch
        worker.Terminate();
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), "The worker did not stop on SIGTERM.");
        Assert.Equal(0, worker.ExitCode);

        // The running task finished within the shutdown window; the prefetched ones were put back.
        Assert.Equal(2L, await running.GetAsync(TimeSpan.FromSeconds(5)));
        var db = producer.Broker.Database;
        Assert.Equal(6, await db.ListLengthAsync(producer.Broker.Keys.Ready("default", 0)));
        var next = Serialization.TaskEnvelope.Read((byte[])(await db.ListGetByIndexAsync(producer.Broker.Keys.Ready("default", 0), -1))!);
        Assert.Equal(waiting[0].Id, next.Id); // the head of the queue is the oldest again

        await using var second = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), await Task.WhenAll(waiting.Select(w => w.GetAsync(TimeSpan.FromSeconds(30)))));
        await worker.DisposeAsync();
    }
}

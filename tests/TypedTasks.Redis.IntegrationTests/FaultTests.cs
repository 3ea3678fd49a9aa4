using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Testing;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// Nothing is lost when a worker process is killed with SIGKILL or Redis itself is killed and
/// restarted: real processes, killed by PID.
/// </summary>
public sealed class FaultTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // scripts/faults.sh runs these at a larger size: TYPEDTASKS_FAULT_TASKS tasks, and the killed
    // worker prefetching TYPEDTASKS_FAULT_PREFETCH of them, so that thousands are held at the kill.
    private static readonly int Size = Setting("TYPEDTASKS_FAULT_TASKS", 1000);
    private static readonly int Prefetch = Setting("TYPEDTASKS_FAULT_PREFETCH", 16);

    private static int Setting(string name, int standard)
        => int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0 ? value : standard;

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_loses_nothing_and_every_task_it_held_completes_once_on_another_worker_after_its_lease()
    {
        // Input: 1,000 tasks, the worker process SIGKILLed while it runs some and holds more
        // prefetched (all Started, with leases of 5 s). Expected: each completes exactly once,
        // those it held on the second worker, with their lost run not counted.
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var first = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix, prefetch: Prefetch);

        var count = Size;
        var proxy = Tasks.SlowAdd.WithClient(producer.Client);
        var handles = await proxy.EnqueueManyAsync(Enumerable.Range(0, count).Select(i => ((long)i, (long)i, 40)));

        // Kill it in the middle of the run: some done, many held or waiting.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await handles[50].GetStateAsync() != TaskState.Succeeded)
        {
            Assert.True(DateTime.UtcNow < deadline, "The first worker never got going:\n" + first.Output);
            await Task.Delay(20);
        }

        first.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var states = await Task.WhenAll(handles.Select(h => h.GetStateAsync().AsTask()));
        var held = handles.Where((_, i) => states[i] == TaskState.Started).Select(h => h.Id).ToHashSet();
        Assert.True(held.Count > 0, "The worker held no task when it was killed; the test proves nothing.");

        await using var second = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);
        var results = await Task.WhenAll(handles.Select(h => h.GetAsync(TimeSpan.FromSeconds(90))));
        var recoveredWithin = clock.Elapsed;
        Assert.Equal(Enumerable.Range(0, count).Select(i => 2L * i), results);

        // Completed once each: the succeeded index names every task once (while it holds them all:
        // it keeps the newest FinalIndexLimit, 1,000); the ones the dead worker held ran on the
        // second worker, once their lease had run out, as their first counted run.
        var counts = await producer.Store.CountAsync("default");
        Assert.Equal((0L, 0L, 0L), (counts.Pending, counts.Started, counts.Failed));
        if (count <= 1000)
        {
            var indexed = await producer.Store.ListAsync("default", TaskState.Succeeded, 0, count + 10);
            Assert.Equal(handles.Select(h => h.Id).Order(StringComparer.Ordinal), indexed.Select(s => s.Info.Id).Order(StringComparer.Ordinal));
            Assert.Equal(count, counts.Succeeded);
        }

        var succeeded = await Task.WhenAll(handles.Select(async h => new { Info = (await h.GetInfoAsync())! }));
        Assert.All(succeeded, s => Assert.Equal(TaskState.Succeeded, s.Info.State));
        var secondName = $"{Environment.MachineName}:{second.Id}";
        foreach (var task in succeeded.Where(s => held.Contains(s.Info.Id)))
        {
            Assert.Equal(secondName, task.Info.Worker);
            Assert.Equal(1, task.Info.Attempt);
            Assert.True(task.Info.UpdatedAt >= killedAt + TimeSpan.FromSeconds(3), $"Task {task.Info.Id} completed at {task.Info.UpdatedAt:O}, before the lease of the killed worker (killed at {killedAt:O}) could have run out.");
        }

        output.WriteLine($"SIGKILL: {held.Count} of {count} tasks held by the worker at the kill; all {count} succeeded {recoveredWithin.TotalSeconds:0.0} s after the kill.");
        Assert.True(recoveredWithin < TimeSpan.FromSeconds(30), $"Every task was done {recoveredWithin} after the kill.");
        Assert.False(second.HasExited);
    }

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_on_one_of_many_queues_gets_its_task_back_within_its_lease_and_a_tick_without_a_safety_look()
    {
        // Input: a worker process serving "default" and 19 idle queues (heartbeat 1 s, lease 5 s)
        // runs a 10 s task and is SIGKILLed; a worker in this process serves the same queues,
        // started before the kill (its first looks done while the lease lived), with its safety
        // look 10 minutes away and a recovery tick of 1 s. Expected: this worker starts the task
        // again within the lease, a tick and some slack of the kill (the lease registry told it a
        // holder stopped), and the task completes there.
        await using var redis = await RedisServer.StartAsync();
        string[] queues = ["default", .. Enumerable.Range(1, 19).Select(i => "idle" + i)];
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var first = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix, concurrency: 1, prefetch: 1, queues: string.Join(',', queues));
        var handle = await Tasks.SlowAdd.WithClient(producer.Client).EnqueueAsync(20, 22, 10_000);
        await Poll.UntilAsync(async () => await handle.GetStateAsync() == TaskState.Started, "the worker process starts the task", TimeSpan.FromSeconds(30));

        await using var survivor = await RedisHost.StartAsync(redis.Endpoint, prefix: producer.Prefix,
            worker: w => { w.Queues = [.. queues]; w.Concurrency = 2; },
            redis: r => r.SafetyLookInterval = TimeSpan.FromMinutes(10));
        await Task.Delay(1000);
        Assert.Equal($"{Environment.MachineName}:{first.Id}", (await handle.GetInfoAsync())!.Worker);

        first.Kill();
        var clock = Stopwatch.StartNew();
        var here = $"{Environment.MachineName}:{Environment.ProcessId}";
        await Poll.UntilAsync(async () => (await handle.GetInfoAsync())!.Worker == here, "the task is started again by the surviving worker", TimeSpan.FromSeconds(60));
        var startedAgain = clock.Elapsed;
        Assert.Equal(42L, await handle.GetAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine($"Started again {startedAgain.TotalSeconds:0.0} s after the kill (lease 5 s, recovery tick 1 s).");
        Assert.True(startedAgain < TimeSpan.FromSeconds(12), $"The task was started again {startedAgain} after the kill, past its lease (5 s) and a tick.");
    }

    [Fact]
    public async Task Redis_killed_and_restarted_with_AOF_loses_no_task_and_the_worker_process_stays_up()
    {
        await using var redis = await RedisServer.StartAsync(durable: true);
        Assert.True(File.Exists(Path.Combine(redis.Directory, "appendonlydir", "appendonly.aof.1.incr.aof")) || Directory.Exists(Path.Combine(redis.Directory, "appendonlydir")), "AOF is not on.");
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        await using var worker = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);
        var proxy = Tasks.SlowAdd.WithClient(producer.Client);

        var before = await Task.WhenAll(Enumerable.Range(0, Size).Select(i => proxy.EnqueueAsync(i, 1, 5)));
        await Task.Delay(300); // part of them done, part in flight, part waiting
        await redis.RestartAsync(TimeSpan.FromSeconds(1));
        var after = await Task.WhenAll(Enumerable.Range(0, Size).Select(i => proxy.EnqueueAsync(i, 2, 5)));

        var restarted = Stopwatch.StartNew();
        var beforeResults = await Task.WhenAll(before.Select(h => h.GetAsync(TimeSpan.FromSeconds(90))));
        var afterResults = await Task.WhenAll(after.Select(h => h.GetAsync(TimeSpan.FromSeconds(90))));
        Assert.Equal(Enumerable.Range(1, Size).Select(i => (long)i), beforeResults);
        Assert.Equal(Enumerable.Range(2, Size).Select(i => (long)i), afterResults);
        Assert.False(worker.HasExited, "The worker process exited:\n" + worker.Output);
        output.WriteLine($"Redis restart: all {2 * Size:N0} tasks succeeded {restarted.Elapsed.TotalSeconds:0.0} s after Redis came back.");
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
        var counts = await producer.Store.CountAsync("default");
        Assert.Equal((6L, 0L), (counts.Pending, counts.Started));
        var pending = await producer.Store.ListAsync("default", TaskState.Pending, 0, 10);
        Assert.Equal(waiting.Select(w => w.Id), pending.Select(p => p.Info.Id)); // the head of the queue is the oldest again

        await using var second = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), await Task.WhenAll(waiting.Select(w => w.GetAsync(TimeSpan.FromSeconds(30)))));
        output.WriteLine("SIGTERM: the running task finished in the shutdown window, the 6 prefetched went back to the head in order and ran once on the next worker.");
        await worker.DisposeAsync();
    }

    [Fact]
    public async Task After_Redis_restarts_empty_a_wait_on_a_task_sent_before_says_it_was_lost_not_a_timeout()
    {
        // Input: a task enqueued, then redis-server (no persistence) killed and started again
        // empty, with a wait under way and one begun after. Error: TaskNotFoundException with
        // Lost = true, well before the wait's timeout.
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false, redis: r => r.ResultPollInterval = TimeSpan.FromMilliseconds(200));
        var sent = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2);
        var waiting = sent.GetAsync(TimeSpan.FromMinutes(2));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        await redis.RestartAsync(TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        var during = await Assert.ThrowsAsync<TaskNotFoundException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(during.Lost, during.Message);
        Assert.Equal(sent.Id, during.TaskId);
        Assert.Contains("was lost", during.Message, StringComparison.Ordinal);

        var after = await Assert.ThrowsAsync<TaskNotFoundException>(() => sent.GetAsync(TimeSpan.FromMinutes(2)).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(after.Lost, after.Message);
        Assert.True((await Assert.ThrowsAsync<TaskNotFoundException>(async () => await sent.GetStateAsync())).Lost);
        output.WriteLine($"Lost reported {clock.Elapsed.TotalSeconds:0.0} s after Redis came back: {during.Message}");
    }

    [Fact]
    public async Task After_Redis_restarts_empty_a_task_sent_before_stays_lost_when_its_producer_sends_more()
    {
        // Input: task A enqueued, redis-server (no persistence) restarted empty, then the same
        // producer enqueues task B to the same queue. Expected: A is still reported lost
        // (TaskNotFoundException, Lost = true); B gets an id of its own, and A's id never names B.
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var a = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2);

        await redis.RestartAsync(TimeSpan.Zero);
        var b = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(40, 2).WaitAsync(TimeSpan.FromSeconds(30));
        await using var worker = await RedisHost.StartAsync(redis.Endpoint, producer.Prefix);
        Assert.Equal(42, await b.GetAsync(RedisHost.Wait));

        Assert.NotEqual(a.Id, b.Id);
        var lost = await Assert.ThrowsAsync<TaskNotFoundException>(() => a.GetAsync(RedisHost.Wait));
        Assert.True(lost.Lost, lost.Message);
    }
}

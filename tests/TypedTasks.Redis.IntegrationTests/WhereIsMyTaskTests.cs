using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// Two applications on one Redis, key prefix and queue, and the waits that time out: on a real
/// Redis, the worker's dead-letter reason, the producer's one warning per queue and task, and the
/// timed-out wait's diagnosis.
/// </summary>
public sealed class WhereIsMyTaskTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan CheckDelay = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_task_of_another_app_on_the_same_Redis_and_queue_is_dead_lettered_with_the_reason_and_its_producer_warns()
    {
        await using var worker = await StartAsync(new CapturedLogs());
        var logs = new CapturedLogs();
        await using var otherApp = await StartAsync(logs, withWorker: false, prefix: worker.Prefix);
        var foreign = await OtherApp.SendAsync(otherApp.Client);
        await OtherApp.SendAsync(otherApp.Client);

        await Assert.ThrowsAsync<TaskFailedException>(() => foreign.GetAsync(RedisHost.Wait));
        await Poll.UntilAsync(async () => (await worker.Store.CountAsync("default")).Failed == 2, "both tasks end Failed");
        var reason = (await worker.Store.FailedAsync("default"))[0].Error!.Message;
        Assert.Contains($"unknown task '{OtherApp.TaskName}' in queue 'default'", reason, StringComparison.Ordinal);
        Assert.Contains($"host {Environment.MachineName}, pid {Environment.ProcessId}", reason, StringComparison.Ordinal);
        Assert.Contains("RedisTransportOptions.KeyPrefix", reason, StringComparison.Ordinal);
        Assert.Equal(TaskState.Failed, await foreign.GetStateAsync());
        Assert.Contains("its own queues", reason, StringComparison.Ordinal);

        await Poll.UntilAsync(() => Task.FromResult(logs.Warnings.Count > 0), "the other app's producer warns", RedisHost.Wait);
        var warning = Assert.Single(logs.Warnings);
        Assert.Contains($"The live workers of queue 'default' do not know task {OtherApp.TaskName}", warning, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_producer_with_no_worker_for_its_queue_warns_once_for_many_enqueues_and_one_with_a_worker_not_at_all()
    {
        var logs = new CapturedLogs();
        await using var producer = await StartAsync(logs, withWorker: false);
        var add = Tasks.Add.WithClient(producer.Client);
        for (var i = 0; i < 100; i++)
        {
            await add.EnqueueAsync(i, i);
        }

        await Poll.UntilAsync(() => Task.FromResult(logs.Warnings.Count > 0), "the producer warns", RedisHost.Wait);
        await add.EnqueueManyAsync(Enumerable.Range(0, 100).Select(i => (i, i)));

        // A worker of the same app serves the 'reports' queue; sending there is checked after the
        // first pair and does not warn.
        await using var reports = await StartAsync(new CapturedLogs(), prefix: producer.Prefix, queues: ["reports"]);
        await Poll.UntilAsync(async () => (await producer.Store.GetWorkersAsync()).Count(w => w.Queues.Contains("reports")) == 1, "the reports worker is live");
        await Tasks.Report.WithClient(producer.Client).EnqueueAsync("r");
        await Poll.UntilAsync(() => Task.FromResult(logs.All.Any(m => m.Contains("can run task it.report", StringComparison.Ordinal))), "the second pair is checked", RedisHost.Wait);

        var warning = Assert.Single(logs.Warnings);
        Assert.Contains("No live worker serves queue 'default', to which task it.add is sent", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wait_says_at_once_that_an_id_was_never_seen_and_a_timed_out_one_whether_no_worker_serves_the_queue_it_waits_its_turn_or_it_runs()
    {
        await using var producer = await StartAsync(new CapturedLogs(), withWorker: false);
        var never = await Assert.ThrowsAsync<TaskNotFoundException>(() => producer.Client.GetResult<int>("never-enqueued@default").GetAsync(RedisHost.Wait).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("No task never-enqueued@default is stored", never.Message, StringComparison.Ordinal);
        Assert.Contains("key prefix", never.Message, StringComparison.Ordinal);

        var queued = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2);
        var noWorker = await Assert.ThrowsAsync<TimeoutException>(() => queued.GetAsync(ShortWait));
        Assert.Contains("it is pending in queue 'default', and no live worker serves that queue", noWorker.Message, StringComparison.Ordinal);

        await using var worker = await StartAsync(new CapturedLogs(), prefix: producer.Prefix, concurrency: 1, prefetch: 1);
        Assert.Equal(3, await queued.GetAsync(RedisHost.Wait));
        var slow = Tasks.SlowAdd.WithClient(producer.Client);
        var running = await slow.EnqueueAsync(1, 1, 3000);
        await Poll.UntilAsync(async () => await running.GetStateAsync() == TaskState.Started, "the slow task starts");
        var busy = await Assert.ThrowsAsync<TimeoutException>(() => running.GetAsync(ShortWait));
        Assert.Contains($"it is running: run 1 started on worker {Environment.MachineName}:{Environment.ProcessId}", busy.Message, StringComparison.Ordinal);

        await slow.EnqueueManyAsync(new[] { (1L, 1L, 1), (1L, 1L, 1), (1L, 1L, 1) });
        var last = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(2, 2);
        var behind = await Assert.ThrowsAsync<TimeoutException>(() => last.GetAsync(ShortWait));
        Assert.Matches(@"it is pending in queue 'default', where [2-4] tasks are pending and [1-3] started by workers, with 1 live worker serving the queue", behind.Message);
        Assert.Equal(4, await last.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Waiting_on_a_task_a_worker_prefetched_says_that_worker_started_it()
    {
        // Default prefetch: the worker fetches everything at once, so nothing is left pending.
        await using var host = await StartAsync(new CapturedLogs(), concurrency: 1);
        var slow = Tasks.SlowAdd.WithClient(host.Client);
        var running = await slow.EnqueueAsync(1, 1, 3000);
        await Poll.UntilAsync(async () => await running.GetStateAsync() == TaskState.Started, "the slow task starts");
        await slow.EnqueueManyAsync(new[] { (1L, 1L, 1), (1L, 1L, 1), (1L, 1L, 1) });
        var last = await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 2);
        await Poll.UntilAsync(async () => (await host.Store.CountAsync("default")).Started == 5, "the worker prefetches the queue");

        // A fetch starts what it takes: the prefetched task is Started on that worker, its lease renewed.
        var behind = await Assert.ThrowsAsync<TimeoutException>(() => last.GetAsync(ShortWait));
        Assert.Contains($"it is running: run 1 started on worker {Environment.MachineName}:{Environment.ProcessId}", behind.Message, StringComparison.Ordinal);
        Assert.Equal(4, await last.GetAsync(RedisHost.Wait));
        Assert.Equal(0, (await host.Store.CountAsync("default")).Started);
    }

    private Task<RedisHost> StartAsync(CapturedLogs logs, bool withWorker = true, string? prefix = null, string[]? queues = null, int concurrency = 8, int prefetch = 16)
        => RedisHost.StartAsync(
            redis.Server.Endpoint,
            prefix,
            worker: w =>
            {
                w.Concurrency = concurrency;
                w.Prefetch = prefetch;
                w.Queues = [.. queues ?? ["default"]];
            },
            withWorker: withWorker,
            options: o => o.WorkerCheckDelay = CheckDelay,
            services: s => s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)));
}

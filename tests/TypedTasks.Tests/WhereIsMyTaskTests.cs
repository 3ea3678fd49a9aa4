using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTasks.InMemory;
using TypedTasks.Serialization;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

/// <summary>
/// Where a task went when it does not come back: a worker that does not know it says so in the
/// dead-letter reason, a producer warns once when no live worker will run what it sends, and a
/// timed-out wait says why.
/// </summary>
public sealed class WhereIsMyTaskTests
{
    private static readonly TimeSpan CheckDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task A_task_of_another_app_is_dead_lettered_with_the_task_queue_worker_and_how_to_separate_the_apps()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var foreign = await OtherApp.SendAsync(host.Client);

        await Assert.ThrowsAsync<TaskFailedException>(() => foreign.GetAsync(TestHost.Wait));
        await Poll.UntilAsync(async () => (await store.FailedAsync("default")).Count == 1, "the task ends Failed");
        var reason = (await store.FailedAsync("default")).Single().Error!.Message;
        Assert.Contains($"unknown task '{OtherApp.TaskName}' in queue 'default'", reason, StringComparison.Ordinal);
        Assert.Contains($"host {Environment.MachineName}, pid {Environment.ProcessId}", reason, StringComparison.Ordinal);
        Assert.Contains("key prefix", reason, StringComparison.Ordinal);
        Assert.Contains("its own queues", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_producer_with_no_worker_for_its_queue_warns_once_for_many_enqueues()
    {
        var logs = new CapturedLogs();
        await using var host = await StartAsync(logs, withWorker: false);
        var proxy = Tasks.Add.WithClient(host.Client);
        for (var i = 0; i < 50; i++)
        {
            await proxy.EnqueueAsync(i, i);
        }

        await Poll.UntilAsync(() => Task.FromResult(logs.Warnings.Count > 0), "the producer warns", TestHost.Wait);
        await proxy.EnqueueManyAsync(Enumerable.Range(0, 50).Select(i => (i, i)));
        for (var i = 0; i < 50; i++)
        {
            await proxy.EnqueueAsync(i, i);
        }

        // Another pair, checked after the first: once it is reported, the first had its chance to warn again.
        await OtherApp.SendAsync(host.Client, "elsewhere");
        await Poll.UntilAsync(() => Task.FromResult(logs.Warnings.Any(w => w.Contains("'elsewhere'", StringComparison.Ordinal))), "the second pair is checked", TestHost.Wait);

        var warning = Assert.Single(logs.Warnings, w => w.Contains("tests.add", StringComparison.Ordinal));
        Assert.Contains("No live worker serves queue 'default'", warning, StringComparison.Ordinal);
        Assert.Contains("TypedTasks:Worker:Queues", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_that_serves_the_queue_but_not_the_task_makes_the_producer_warn_that_it_does_not_know_the_task()
    {
        var logs = new CapturedLogs();
        await using var host = await StartAsync(logs, withWorker: true);
        await OtherApp.SendAsync(host.Client);
        await OtherApp.SendAsync(host.Client);

        await Poll.UntilAsync(() => Task.FromResult(logs.Warnings.Any(w => w.Contains("do not know", StringComparison.Ordinal))), "the producer warns", TestHost.Wait);
        var warning = Assert.Single(logs.Warnings, w => w.Contains("do not know", StringComparison.Ordinal));
        Assert.Contains($"The live workers of queue 'default' do not know task {OtherApp.TaskName}", warning, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", warning, StringComparison.Ordinal);
        // What becomes of such a task, in the words of the tools that show it.
        Assert.Contains("each such task will end Failed (unknown task) and stay in the queue's failed tasks (typedtasks dead list)", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_lived_producer_warns_as_it_stops_before_the_check_was_due()
    {
        var logs = new CapturedLogs();
        var host = await TestHost.StartAsync(
            withWorker: false,
            options: o => o.UseInMemory(),
            services: s => s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)));
        await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        Assert.Empty(logs.Warnings);

        // Stopped well within the default 5 s delay: the pending check runs as the host stops.
        await host.DisposeAsync();
        var warning = Assert.Single(logs.Warnings);
        Assert.Contains("No live worker serves queue 'default', to which task tests.add is sent", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(31.0)]
    [InlineData(60.0)]
    [InlineData(double.PositiveInfinity)]
    public async Task A_worker_check_delay_beyond_30_days_is_refused_with_what_to_use_instead(double days)
    {
        var delay = double.IsInfinity(days) ? TimeSpan.MaxValue : TimeSpan.FromDays(days);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(options: o =>
        {
            o.UseInMemory();
            o.WorkerCheckDelay = delay;
        }));
        Assert.Contains("TypedTasks:WorkerCheckDelay must be between 0 and 30 days", error.Message, StringComparison.Ordinal);
        Assert.Contains("to turn the check off", error.Message, StringComparison.Ordinal);

        await using var off = await TestHost.StartAsync(options: o =>
        {
            o.UseInMemory();
            o.WorkerCheckDelay = System.Threading.Timeout.InfiniteTimeSpan;
        });
        Assert.Equal(3, await (await Tasks.Add.WithClient(off.Client).EnqueueAsync(1, 2)).GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Noting_a_send_never_throws_whatever_the_delay_and_the_longest_delay_still_checks()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var logs = new CapturedLogs();
        var logger = logs.CreateLogger("coverage");
        using var unbounded = new QueueCoverage(new InMemoryTaskStore(timeProvider: time), TimeSpan.MaxValue, time, logger);
        unbounded.Observe("default", "tests.add");
        using var beyondTimer = new QueueCoverage(new InMemoryTaskStore(timeProvider: time), TimeSpan.FromDays(60), time, logger);
        beyondTimer.Observe("default", "tests.add");
        using var longest = new QueueCoverage(new InMemoryTaskStore(timeProvider: time), TimeSpan.FromDays(30), time, logger);
        longest.Observe("longest", "tests.add");

        time.Advance(TimeSpan.FromDays(30));
        await Poll.UntilAsync(() => Task.FromResult(logs.Warnings.Count == 3), "each coverage checks once its delay, clamped to 30 days, passed", TestHost.Wait);
        Assert.Single(logs.Warnings, w => w.Contains("queue 'longest'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_single_process_app_with_its_worker_gets_no_warning()
    {
        var logs = new CapturedLogs();
        await using var host = await StartAsync(logs, withWorker: true);
        Assert.Equal(4, await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 2)).GetAsync(TestHost.Wait));

        await Poll.UntilAsync(() => Task.FromResult(logs.All.Any(m => m.Contains("can run task tests.add", StringComparison.Ordinal))), "the queue is checked", TestHost.Wait);
        Assert.DoesNotContain(logs.Warnings, w => w.Contains("queue", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Waiting_on_an_id_never_seen_says_so_at_once()
    {
        await using var host = await TestHost.StartAsync();
        var unknown = host.Client.GetResult<int>("no-such-id");

        Assert.Null(await unknown.GetInfoAsync());
        var error = await Assert.ThrowsAsync<TaskNotFoundException>(() => unknown.GetAsync(TestHost.Wait));
        Assert.Contains("No task no-such-id is stored", error.Message, StringComparison.Ordinal);
        Assert.Contains("key prefix", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_on_a_task_whose_queue_no_worker_serves_says_so()
    {
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["other"]);
        var result = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => result.GetAsync(ShortWait));
        Assert.Contains($"Task tests.add {result.Id} did not finish within", error.Message, StringComparison.Ordinal);
        Assert.Contains("it is pending in queue 'default', and no live worker serves that queue", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_on_a_workflow_step_not_made_yet_says_how_many_of_its_members_have_ended()
    {
        // Input: a chord of two members whose queue no worker serves. Expected: the timeout names
        // the step as not made yet and counts its members, instead of a worker that lacks its task.
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["other"]);
        var members = new[] { Tasks.Add.WithClient(host.Client).Call(1, 2), Tasks.Add.WithClient(host.Client).Call(3, 4) };
        var group = await TypedTasks.Workflows.TaskGroup.Of(members).EnqueueAsync();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => group.GetAsync(ShortWait));
        Assert.Contains("it is a workflow step not made yet: it is made when every member it waits for has ended, and 0 of 2 have", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'typedtasks workflow {group.Id}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_on_a_task_queued_behind_others_says_how_many_and_how_many_workers()
    {
        await using var host = await TestHost.StartAsync(worker: w =>
        {
            w.Concurrency = 1;
            w.Prefetch = 1;
        });
        var pause = Tasks.Pause.WithClient(host.Client);
        var busy = await pause.EnqueueAsync(3000);
        await Poll.UntilAsync(async () => await busy.GetStateAsync() == TaskState.Started, "the worker is busy");
        await pause.EnqueueManyAsync(new[] { 1, 1, 1 });
        var last = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => last.GetAsync(ShortWait));
        Assert.Matches(@"it is pending in queue 'default', where [2-4] tasks are pending and [1-3] started by workers, with 1 live worker serving the queue", error.Message);
        Assert.Equal(3, await last.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Waiting_on_a_task_a_worker_prefetched_says_that_worker_started_it()
    {
        // Default prefetch: the worker fetches everything at once, so nothing is left ready.
        await using var host = await TestHost.StartAsync(worker: w => w.Concurrency = 1);
        var pause = Tasks.Pause.WithClient(host.Client);
        var busy = await pause.EnqueueAsync(3000);
        await Poll.UntilAsync(async () => await busy.GetStateAsync() == TaskState.Started, "the worker is busy");
        await pause.EnqueueManyAsync(new[] { 1, 1, 1 });
        var last = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        await Poll.UntilAsync(async () => (await host.Client.Store.CountAsync("default")).Started == 5, "the worker prefetches the queue");

        // A fetch starts what it takes: the prefetched task is Started on that worker, its lease renewed.
        var error = await Assert.ThrowsAsync<TimeoutException>(() => last.GetAsync(ShortWait));
        Assert.Contains($"it is running: run 1 started on worker {Environment.MachineName}:{Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, await last.GetAsync(TestHost.Wait));
        Assert.Equal(0, (await host.Client.Store.CountAsync("default")).Started);
    }

    [Fact]
    public async Task Waiting_on_a_running_task_names_the_worker_that_runs_it()
    {
        await using var host = await TestHost.StartAsync();
        var running = await Tasks.Pause.WithClient(host.Client).EnqueueAsync(3000);
        await Poll.UntilAsync(async () => await running.GetStateAsync() == TaskState.Started, "the task starts");

        var error = await Assert.ThrowsAsync<TimeoutException>(() => running.GetAsync(ShortWait));
        Assert.Contains($"it is running: run 1 started on worker {Environment.MachineName}:{Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Contains("in queue 'default' and has not finished", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_carries_its_queue_and_worker_and_a_record_without_them_still_reads()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var started = new TaskInfo("t1", "tests.add", TaskState.Started, 0, at, null, default) { Queue = "reports", Worker = "box:42" };
        var read = TaskInfoCodec.Read("t1", TaskInfoCodec.Write(started));
        Assert.Equal(("reports", "box:42"), (read.Queue, read.Worker));
        Assert.True(TaskInfoCodec.IsUnfinished(TaskInfoCodec.Write(started)));

        // A record as written before the queue and worker fields: [1, state, task, attempt, at, nil, nil].
        byte[] old = [0x97, 0x01, 0x00, 0xa9, .. "tests.add"u8, 0x00, 0xcf, .. BitConverter.GetBytes(at.ToUnixTimeMilliseconds()).Reverse(), 0xc0, 0xc0];
        var legacy = TaskInfoCodec.Read("t0", old);
        Assert.Equal((TaskState.Pending, "tests.add", (string?)null, (string?)null), (legacy.State, legacy.TaskName, legacy.Queue, legacy.Worker));
        Assert.True(TaskInfoCodec.IsUnfinished(old));
    }

    private static Task<TestHost> StartAsync(CapturedLogs logs, bool withWorker)
        => TestHost.StartAsync(
            withWorker: withWorker,
            options: o =>
            {
                o.UseInMemory();
                o.WorkerCheckDelay = CheckDelay;
            },
            services: s => s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)));
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using TypedTasks.InMemory;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

/// <summary>
/// The user-facing contract, end to end on the in-memory broker: a host with a worker, tasks
/// enqueued through the generated proxies (bound to the host's client, since tests run in
/// parallel), typed results awaited back.
/// </summary>
public sealed class EndToEndTests
{
    [Fact]
    public async Task Typed_results_of_several_shapes_come_back()
    {
        await using var host = await TestHost.StartAsync();
        var client = host.Client;

        AsyncResult<int> sum = await Tasks.Add.WithClient(client).EnqueueAsync(2, 3);
        Assert.Equal(5, await sum.GetAsync(TestHost.Wait));
        Assert.Equal(5, await sum);
        Assert.Equal(TaskState.Succeeded, await sum.GetStateAsync());

        var order = new Order(Guid.NewGuid(), "ada", 12.50m, DateTimeOffset.UnixEpoch.AddDays(3), ["a", "b"], new() { ["x"] = 1 }, Shade.Dark, TimeSpan.FromMinutes(5));
        var echoed = await (await Tasks.EchoOrder.WithClient(client).EnqueueAsync(order)).GetAsync(TestHost.Wait);
        Assert.Equal(order.Id, echoed.Id);
        Assert.Equal("ADA", echoed.Customer);
        Assert.Equal(12.50m, echoed.Total);
        Assert.Equal(order.PlacedAt, echoed.PlacedAt);
        Assert.Equal(order.Lines, echoed.Lines);
        Assert.Equal(order.Counts, echoed.Counts);
        Assert.Equal(Shade.Dark, echoed.Shade);
        Assert.Equal(order.Window, echoed.Window);

        var summary = await (await Tasks.Summarize.WithClient(client).EnqueueAsync([3, 1, 2], null)).GetAsync(TestHost.Wait);
        Assert.Equal("(none)", summary.Title);
        Assert.Equal([1, 2, 3], summary.Numbers);
        Assert.Equal(DateTimeKind.Utc, summary.At.Kind);

        var twice = await (await Tasks.Twice.WithClient(client).EnqueueAsync(new Attributed { Value = 21, Note = "n" })).GetAsync(TestHost.Wait);
        Assert.Equal(42, twice.Value);
        Assert.Equal("n", twice.Note);

        Assert.Equal(4, await (await Tasks.Half.WithClient(client).EnqueueAsync(8)).GetAsync(TestHost.Wait));
        Assert.Null(await (await Tasks.Half.WithClient(client).EnqueueAsync(null)).GetAsync(TestHost.Wait));
        Assert.Equal("Hello, Bo!", await (await Tasks.Greet.WithClient(client).EnqueueAsync("Bo")).GetAsync(TestHost.Wait));
        Assert.Equal("Hey, Bo! Hey, Bo!", await (await Tasks.Greet.WithClient(client).EnqueueAsync("Bo", "Hey", 2)).GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Void_Task_and_ValueTask_tasks_give_a_plain_AsyncResult()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        AsyncResult done = await Tasks.Record.WithClient(host.Client).EnqueueAsync(key + "v", 7);
        await done.GetAsync(TestHost.Wait);
        await (await Tasks.RecordLater.WithClient(host.Client).EnqueueAsync(key + "t", 8)).GetAsync(TestHost.Wait);
        await await Tasks.RecordNow.WithClient(host.Client).EnqueueAsync(key + "n");

        Assert.Equal(7, ShapeTasks.Recorded[key + "v"]);
        Assert.Equal(8, ShapeTasks.Recorded[key + "t"]);
        Assert.Equal(1, ShapeTasks.Recorded[key + "n"]);
        Assert.Equal(TaskState.Succeeded, await done.GetStateAsync());
    }

    [Fact]
    public async Task Instance_tasks_come_from_DI_with_one_scope_per_run()
    {
        await using var host = await TestHost.StartAsync(services: s => s.AddSingleton<IGreeter, Greeter>().AddScoped<ScopedCounter>());
        var client = host.Client;

        // GreetingTasks itself is not registered: it is constructed from DI services.
        Assert.Equal("hi ada", await (await Tasks.GreetFromDi.WithClient(client).EnqueueAsync("ada")).GetAsync(TestHost.Wait));

        var first = await (await Tasks.ScopeId.WithClient(client).EnqueueAsync()).GetAsync(TestHost.Wait);
        var second = await (await Tasks.ScopeId.WithClient(client).EnqueueAsync()).GetAsync(TestHost.Wait);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task A_failure_throws_TaskFailedException_with_the_remote_type_message_and_stack()
    {
        await using var host = await TestHost.StartAsync();
        var result = await Tasks.Fail.WithClient(host.Client).EnqueueAsync("no such customer");

        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(TestHost.Wait));
        Assert.Equal("System.InvalidOperationException", failure.RemoteType);
        Assert.Equal("no such customer", failure.Error.Message);
        Assert.Contains(nameof(FaultTasks.Fail), failure.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal(result.Id, failure.TaskId);
        Assert.Equal(TaskState.Failed, await result.GetStateAsync());

        // A final failure is kept in the queue's failed (dead) tasks with its error.
        var dead = await host.Client.Store.FailedAsync("default");
        Assert.Contains(dead, d => d.Id == result.Id && d.Error!.Message == "no such customer");
    }

    [Fact]
    public async Task A_flaky_task_is_retried_with_backoff_until_it_succeeds()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        var result = await Tasks.Flaky.WithClient(host.Client).EnqueueAsync(key, 2);

        Assert.Equal(3, await result.GetAsync(TestHost.Wait));
        var info = await result.GetInfoAsync();
        Assert.NotNull(info);
        Assert.Equal(3, info.Attempt); // the third run succeeded
        Assert.Equal(3, FaultTasks.Calls[key]);
    }

    [Fact]
    public async Task A_task_that_exhausts_its_retries_fails_with_the_last_error()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        var result = await Tasks.Flaky.WithClient(host.Client).EnqueueAsync(key, 100);

        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(TestHost.Wait));
        Assert.Equal("System.TimeoutException", failure.RemoteType);
        Assert.Equal("call 4 failed", failure.Error.Message);
        Assert.Equal(4, FaultTasks.Calls[key]); // the first run and MaxRetries = 3 retries
    }

    [Fact]
    public async Task A_task_that_outlives_its_timeout_fails()
    {
        await using var host = await TestHost.StartAsync();
        var cooperative = await Tasks.Slow.WithClient(host.Client).EnqueueAsync(10_000);
        var stubborn = await Tasks.Stubborn.WithClient(host.Client).EnqueueAsync(2_000); // keeps its slot, and the stop waits, until it returns
        var quick = await Tasks.Slow.WithClient(host.Client).EnqueueAsync(1);

        foreach (var slow in new AsyncResult<int>[] { cooperative, stubborn })
        {
            var failure = await Assert.ThrowsAsync<TaskFailedException>(() => slow.GetAsync(TestHost.Wait));
            Assert.Equal(typeof(TaskTimeoutException).FullName, failure.RemoteType);
            Assert.Contains("00:00:00.2", failure.Error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, await quick.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_delayed_task_is_Scheduled_then_runs_after_its_delay()
    {
        await using var host = await TestHost.StartAsync();
        var enqueuedAt = DateTimeOffset.UtcNow;
        var result = await Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { Delay = TimeSpan.FromSeconds(1) }).EnqueueAsync(1, 1);

        Assert.Equal(TaskState.Scheduled, await result.GetStateAsync());
        Assert.Equal(2, await result.GetAsync(TestHost.Wait));
        var info = await result.GetInfoAsync();
        Assert.True(info!.UpdatedAt - enqueuedAt >= TimeSpan.FromMilliseconds(950), $"ran after {info.UpdatedAt - enqueuedAt}");
    }

    [Fact]
    public async Task An_ETA_in_the_past_runs_at_once()
    {
        await using var host = await TestHost.StartAsync();
        var result = await Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { Eta = DateTimeOffset.UtcNow.AddMinutes(-1) }).EnqueueAsync(2, 2);
        Assert.Equal(4, await result.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_task_that_expires_before_it_starts_ends_Expired_without_running()
    {
        // No worker at first: the tasks wait in the queue past their expiry.
        var store = new InMemoryTaskStore();
        await using (var producer = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false))
        {
            var fromAttribute = await Tasks.Expiring.WithClient(producer.Client).EnqueueAsync();
            var fromOptions = await Tasks.Add.WithClient(producer.Client).With(new EnqueueOptions { Expires = TimeSpan.FromMilliseconds(50) }).EnqueueAsync(1, 2);
            await Task.Delay(300);

            await using var worker = await TestHost.StartAsync(options: o => o.UseInMemory(store));
            foreach (var expired in new AsyncResult[] { fromAttribute, fromOptions })
            {
                var revoked = await Assert.ThrowsAsync<TaskRevokedException>(() => expired.GetAsync(TestHost.Wait));
                Assert.Equal(TaskState.Expired, revoked.State);
                Assert.Equal(TaskState.Expired, await expired.GetStateAsync());
            }
        }
    }

    [Fact]
    public async Task Two_thousand_concurrent_enqueues_all_succeed_with_their_own_results()
    {
        await using var host = await TestHost.StartAsync(w => w.Concurrency = 16);
        var proxy = Tasks.Add.WithClient(host.Client);
        var handles = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => proxy.EnqueueAsync(i, i)));
        Assert.Equal(2000, handles.Select(h => h.Id).Distinct().Count());

        var sums = await Task.WhenAll(handles.Select(h => h.GetAsync(TestHost.Wait)));
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => 2 * i), sums);
    }

    [Fact]
    public async Task Enqueues_compose_with_Task_WhenAll_over_a_Select()
    {
        await using var host = await TestHost.StartAsync();
        var client = host.Client;
        var items = Enumerable.Range(1, 20).ToList();

        // The idiom as users write it: no AsTask(), whatever the proxy's return type.
        AsyncResult<int>[] sums = await Task.WhenAll(items.Select(i => Tasks.Add.WithClient(client).EnqueueAsync(i, i)));
        Assert.Equal(items.Select(i => 2 * i), await Task.WhenAll(sums.Select(s => s.GetAsync(TestHost.Wait))));

        var key = Guid.NewGuid().ToString("N");
        AsyncResult[] records = await Task.WhenAll(items.Select(i => Tasks.Record.WithClient(client).EnqueueAsync($"{key}-{i}", i)));
        await Task.WhenAll(records.Select(r => r.GetAsync(TestHost.Wait)));
        Assert.All(items, i => Assert.Equal(i, ShapeTasks.Recorded[$"{key}-{i}"]));

        IReadOnlyList<AsyncResult<int>>[] batches = await Task.WhenAll(items.Chunk(5).Select(chunk => Tasks.Add.WithClient(client).EnqueueManyAsync(chunk.Select(i => (i, 1)))));
        Assert.Equal(items.Select(i => i + 1), await Task.WhenAll(batches.SelectMany(b => b).Select(h => h.GetAsync(TestHost.Wait))));
    }

    [Fact]
    public async Task An_unknown_id_is_never_taken_for_a_pending_task()
    {
        // Before, an unknown id answered Pending and a wait on it ran into its timeout.
        await using var host = await TestHost.StartAsync();
        var unknown = Tasks.Add.WithClient(host.Client).GetResult("no-such-id");

        Assert.Null(await unknown.GetInfoAsync());
        var state = await Assert.ThrowsAsync<TaskNotFoundException>(async () => await unknown.GetStateAsync());
        Assert.Equal("no-such-id", state.TaskId);
        Assert.False(state.Lost);
        var wait = await Assert.ThrowsAsync<TaskNotFoundException>(() => unknown.GetAsync(TestHost.Wait));
        Assert.Contains("never enqueued here", wait.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_typed_handle_from_an_id_reads_the_result()
    {
        await using var host = await TestHost.StartAsync();
        var original = await Tasks.Add.WithClient(host.Client).EnqueueAsync(20, 22);
        await original.GetAsync(TestHost.Wait);

        AsyncResult<int> again = Tasks.Add.WithClient(host.Client).GetResult(original.Id);
        Assert.Equal(42, await again.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Waiting_less_than_the_task_takes_throws_TimeoutException_and_the_task_still_completes()
    {
        await using var host = await TestHost.StartAsync();
        var result = await Tasks.Pause.WithClient(host.Client).EnqueueAsync(300);
        await Assert.ThrowsAsync<TimeoutException>(() => result.GetAsync(TimeSpan.FromMilliseconds(10)));
        Assert.Equal(300, await result.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_task_routed_to_another_queue_runs_only_on_a_worker_that_serves_it()
    {
        var store = new InMemoryTaskStore();
        await using var defaultWorker = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var report = await Tasks.Report.WithClient(defaultWorker.Client).EnqueueAsync("q3");
        var rerouted = await Tasks.Add.WithClient(defaultWorker.Client).With(new EnqueueOptions { Queue = "reports" }).EnqueueAsync(1, 2);

        await Task.Delay(200);
        Assert.Equal(TaskState.Pending, await report.GetStateAsync());
        Assert.Equal(2, await store.PendingAsync("reports"));

        await using var reportsWorker = await TestHost.StartAsync(w => w.Queues = ["reports"], options: o => o.UseInMemory(store));
        Assert.Equal("report:q3", await report.GetAsync(TestHost.Wait));
        Assert.Equal(3, await rerouted.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Per_call_options_are_checked_before_anything_is_sent()
    {
        await using var host = await TestHost.StartAsync(withWorker: false);
        var proxy = Tasks.Add.WithClient(host.Client);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => proxy.With(new EnqueueOptions { Priority = 10 }).EnqueueAsync(1, 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => proxy.With(new EnqueueOptions { Delay = TimeSpan.FromSeconds(-1) }).EnqueueAsync(1, 1));
        await Assert.ThrowsAsync<ArgumentException>(() => proxy.With(new EnqueueOptions { Queue = " " }).EnqueueAsync(1, 1));
        Assert.Equal(0, await host.Client.Store.PendingAsync("default"));
    }

    [Fact]
    public async Task A_caller_chosen_task_id_is_used()
    {
        await using var host = await TestHost.StartAsync();
        var id = "order-" + Guid.NewGuid();
        var result = await Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { TaskId = id }).EnqueueAsync(5, 6);
        Assert.Equal(id + "@default", result.Id);
        Assert.Equal(11, await result.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_task_canceled_before_it_runs_ends_Canceled_and_never_runs()
    {
        var store = new InMemoryTaskStore();
        var key = Guid.NewGuid().ToString();
        await using var producer = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var pending = await Tasks.Record.WithClient(producer.Client).EnqueueAsync(key, 1);
        var scheduled = await Tasks.Record.WithClient(producer.Client).With(new EnqueueOptions { Delay = TimeSpan.FromMilliseconds(300) }).EnqueueAsync(key + "s", 1);

        Assert.True(await pending.CancelAsync());
        Assert.True(await scheduled.CancelAsync());
        var revoked = await Assert.ThrowsAsync<TaskRevokedException>(() => pending.GetAsync(TestHost.Wait));
        Assert.Equal(TaskState.Canceled, revoked.State);

        await using var worker = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var after = await Tasks.Add.WithClient(worker.Client).EnqueueAsync(1, 1);
        Assert.Equal(2, await after.GetAsync(TestHost.Wait));
        await Task.Delay(300);
        Assert.False(ShapeTasks.Recorded.ContainsKey(key));
        Assert.False(ShapeTasks.Recorded.ContainsKey(key + "s"));
        Assert.Equal(TaskState.Canceled, await scheduled.GetStateAsync());
    }

    [Fact]
    public async Task A_running_task_that_is_canceled_has_its_token_signalled_and_ends_Canceled()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        var blocked = await Tasks.Block.WithClient(host.Client).EnqueueAsync(key);
        var deadline = DateTime.UtcNow + TestHost.Wait;
        while (!FaultTasks.Started.ContainsKey(key) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(await blocked.CancelAsync());
        var revoked = await Assert.ThrowsAsync<TaskRevokedException>(() => blocked.GetAsync(TestHost.Wait));
        Assert.Equal(TaskState.Canceled, revoked.State);

        // The worker's slot is free again, and the state stays Canceled.
        Assert.Equal(3, await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2)).GetAsync(TestHost.Wait));
        Assert.Equal(TaskState.Canceled, await blocked.GetStateAsync());
    }

    [Fact]
    public async Task Canceling_a_finished_task_changes_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        Assert.Equal(3, await sum.GetAsync(TestHost.Wait));
        Assert.False(await sum.CancelAsync());
        Assert.Equal(3, await sum.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Many_tasks_enqueued_in_bulk_each_get_their_own_result()
    {
        await using var host = await TestHost.StartAsync();
        var sums = await Tasks.Add.WithClient(host.Client).EnqueueManyAsync(Enumerable.Range(0, 500).Select(i => (i, 1000)));
        Assert.Equal(500, sums.Select(s => s.Id).Distinct().Count());
        Assert.Equal(Enumerable.Range(1000, 500), await Task.WhenAll(sums.Select(s => s.GetAsync(TestHost.Wait))));

        var greetings = await Tasks.Greet.WithClient(host.Client).EnqueueManyAsync([("a", "Hi", 1), ("b", "Yo", 2)]);
        Assert.Equal(new[] { "Hi, a!", "Yo, b! Yo, b!" }, await Task.WhenAll(greetings.Select(g => g.GetAsync(TestHost.Wait))));

        var delayed = await Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { Delay = TimeSpan.FromSeconds(1) }).EnqueueManyAsync([(1, 1), (2, 2)]);
        Assert.Equal(TaskState.Scheduled, await delayed[0].GetStateAsync());
        Assert.Equal(new[] { 2, 4 }, await Task.WhenAll(delayed.Select(d => d.GetAsync(TestHost.Wait))));

        await Assert.ThrowsAsync<ArgumentException>(() => Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { TaskId = "x" }).EnqueueManyAsync([(1, 1)]));
    }

    [Fact]
    public async Task A_task_that_holds_its_thread_does_not_hold_up_fetching_or_the_other_executors()
    {
        await using var host = await TestHost.StartAsync(w => { w.Concurrency = 4; w.Prefetch = 2; });
        var key = Guid.NewGuid().ToString();
        var gate = FaultTasks.Gates.GetOrAdd(key, _ => new ManualResetEventSlim());
        try
        {
            var held = await Tasks.HoldThread.WithClient(host.Client).EnqueueAsync(key);
            await Poll.UntilAsync(() => Task.FromResult(FaultTasks.Started.ContainsKey(key)), "the holding task started");

            // More messages than the prefetch: they must be fetched and run while it holds its thread.
            var sums = await Tasks.Add.WithClient(host.Client).EnqueueManyAsync(Enumerable.Range(0, 20).Select(i => (i, 1)));
            Assert.Equal(Enumerable.Range(1, 20), await Task.WhenAll(sums.Select(s => s.GetAsync(TestHost.Wait))));
            Assert.Equal(TaskState.Started, await held.GetStateAsync());
            gate.Set();
            Assert.Equal(1, await held.GetAsync(TestHost.Wait));
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task A_blank_or_overlong_task_id_is_refused_at_enqueue_and_nothing_is_queued()
    {
        await using var host = await TestHost.StartAsync(withWorker: false);
        var proxy = Tasks.Add.WithClient(host.Client);
        var blank = await Assert.ThrowsAsync<ArgumentException>(() => proxy.With(new EnqueueOptions { TaskId = " " }).EnqueueAsync(1, 1));
        Assert.Contains("TaskId must not be blank", blank.Message, StringComparison.Ordinal);
        var tooLong = new string('x', EnqueueOptions.MaxTaskIdLength + 1);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => proxy.With(new EnqueueOptions { TaskId = tooLong }).EnqueueAsync(1, 1));
        Assert.Contains($"at most {EnqueueOptions.MaxTaskIdLength} characters", refused.Message, StringComparison.Ordinal);
        Assert.Null(await host.Client.GetInfoAsync(tooLong));

        var longest = new string('y', EnqueueOptions.MaxTaskIdLength);
        var accepted = await proxy.With(new EnqueueOptions { TaskId = longest }).EnqueueAsync(1, 1);
        Assert.Equal(TaskState.Pending, await accepted.GetStateAsync());
    }
}

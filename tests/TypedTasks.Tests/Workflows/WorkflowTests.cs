using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Inspection;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;
using TypedTasks.Workflows;

namespace TypedTasks.Tests.Workflows;

/// <summary>Chains, groups, chords, maps and AllSettled end to end on the in-memory store, with a worker in the process.</summary>
public sealed class WorkflowTests
{
    [Fact]
    public async Task A_chain_of_three_with_Bind_passes_each_result_to_the_next_step()
    {
        await using var host = await TestHost.StartAsync();
        var chain = await Tasks.Add.WithClient(host.Client).Call(2, 3)
            .Then(Tasks.Square)
            .Then(Tasks.Describe.Bind("cm"))
            .EnqueueAsync();

        Assert.Equal("25 cm", await chain.GetAsync(TestHost.Wait));
        Assert.Equal("wf.describe", (await chain.GetInfoAsync())!.TaskName);
    }

    [Fact]
    public async Task A_group_gives_the_results_in_member_order_and_a_chord_runs_its_callback_once_with_them()
    {
        await using var host = await TestHost.StartAsync();
        var calls = Enumerable.Range(0, 100).Select(i => Tasks.Add.WithClient(host.Client).Call(i, i)).ToList();

        var group = await TaskGroup.Of(calls).EnqueueAsync();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => 2 * i), await group.GetAsync(TestHost.Wait));

        var key = Guid.NewGuid().ToString("N");
        var chord = await TaskGroup.Of(calls).Then(Tasks.CountRuns.Bind(key)).EnqueueAsync();
        Assert.Equal(9900, await chord.GetAsync(TestHost.Wait));
        Assert.Equal(1, WorkflowTasks.Runs[key]);
    }

    [Fact]
    public async Task Map_runs_the_task_once_per_element_and_a_chord_can_be_a_step_of_a_chain()
    {
        await using var host = await TestHost.StartAsync();
        var squares = await Tasks.Square.WithClient(host.Client).Map(new[] { 1, 2, 3 }).EnqueueAsync();
        Assert.Equal(new[] { 1, 4, 9 }, await squares.GetAsync(TestHost.Wait));

        var nested = await Tasks.Square.WithClient(host.Client).Map(new[] { 1, 2, 3 })
            .Then(Tasks.Sum)
            .Then(Tasks.Square)
            .Then(Tasks.Describe.Bind("m²"))
            .EnqueueAsync();
        Assert.Equal("196 m²", await nested.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_group_of_chains_a_group_of_groups_and_a_group_holding_a_chord_give_their_results_in_member_order()
    {
        await using var host = await TestHost.StartAsync();
        var add = Tasks.Add.WithClient(host.Client);
        var square = Tasks.Square.WithClient(host.Client);

        var chains = await TaskGroup.Of(Enumerable.Range(1, 5).Select(i => add.Call(i, i).Then(Tasks.Square))).EnqueueAsync();
        Assert.Equal(new[] { 4, 16, 36, 64, 100 }, await chains.GetAsync(TestHost.Wait));

        var groups = await TaskGroup.Of(square.Map(new[] { 1, 2 }), square.Map(new[] { 3 }), TaskGroup.Of(Array.Empty<TaskCall<int>>())).EnqueueAsync();
        Assert.Equal(new[] { new[] { 1, 4 }, [9], [] }, await groups.GetAsync(TestHost.Wait));

        // A chord and a chain of a chord as members beside a call, then a chord over all of them.
        var key = Guid.NewGuid().ToString("N");
        var total = await TaskGroup.Of(square.Map(new[] { 1, 2 }).Then(Tasks.Sum), square.Map(new[] { 3 }).Then(Tasks.Sum).Then(Tasks.Square), add.Call(1, 1))
            .Then(Tasks.CountRuns.Bind(key))
            .EnqueueAsync();
        Assert.Equal(5 + 81 + 2, await total.GetAsync(TestHost.Wait));
        Assert.Equal(1, WorkflowTasks.Runs[key]);

        // Ids stay deterministic: the starts are <wf>.0.<i>, the joins numbered inner first, the handle last.
        var wf = total.Id[..16];
        Assert.Equal($"{wf}.4@default", total.Id);
    }

    [Fact]
    public async Task A_chain_or_chord_can_end_with_a_task_without_a_result_and_its_handle_reports_a_failure_before_it()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var chain = await Tasks.Add.WithClient(host.Client).Call(2, 3).Then(Tasks.Square).Then(Tasks.Remember.Bind(key)).EnqueueAsync();
        await chain.GetAsync(TestHost.Wait);
        Assert.Equal(25, WorkflowTasks.Records[key]);
        Assert.Equal(("wf.remember", TaskState.Succeeded), ((await chain.GetInfoAsync())!.TaskName, (await chain.GetInfoAsync())!.State));

        var chordKey = Guid.NewGuid().ToString("N");
        var chord = await Tasks.Square.WithClient(host.Client).Map(new[] { 1, 2, 3 }).Then(Tasks.Sum).Then(Tasks.Remember.Bind(chordKey)).EnqueueAsync();
        await chord.GetAsync(TestHost.Wait);
        Assert.Equal(14, WorkflowTasks.Records[chordKey]);

        var failedKey = Guid.NewGuid().ToString("N");
        var failing = await Tasks.FailOn.WithClient(host.Client).Call(4, 4).Then(Tasks.Remember.Bind(failedKey)).EnqueueAsync();
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => failing.GetAsync(TestHost.Wait));
        Assert.Equal("wf.fail-on", failed.TaskName);
        Assert.False(WorkflowTasks.Records.ContainsKey(failedKey));
    }

    [Fact]
    public async Task A_chain_fans_out_into_steps_that_each_get_the_previous_result_and_a_callback_gets_theirs()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var fan = await Tasks.Add.WithClient(host.Client).Call(2, 3)
            .ThenAll(Tasks.Square, Tasks.Mark.Bind(key))
            .Then(Tasks.Sum)
            .Then(Tasks.Describe.Bind("in all"))
            .EnqueueAsync();
        Assert.Equal("30 in all", await fan.GetAsync(TestHost.Wait));
        Assert.Equal(5, WorkflowTasks.Records[key]);

        // A chord's results to several callbacks, and a fan-out as a group's member.
        var runs = Guid.NewGuid().ToString("N");
        var callbacks = await Tasks.Square.WithClient(host.Client).Map(new[] { 1, 2 }).ThenAll(Tasks.Sum, Tasks.CountRuns.Bind(runs)).EnqueueAsync();
        Assert.Equal(new[] { 5, 5 }, await callbacks.GetAsync(TestHost.Wait));
        Assert.Equal(1, WorkflowTasks.Runs[runs]);
        var nested = await TaskGroup.Of(Tasks.Add.WithClient(host.Client).Call(1, 1).ThenAll(Tasks.Square, Tasks.Square), Tasks.Square.WithClient(host.Client).Map(new[] { 3 })).EnqueueAsync();
        Assert.Equal(new[] { new[] { 4, 4 }, [9] }, await nested.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_fan_out_fails_when_its_part_before_or_one_of_its_steps_fails_and_no_later_step_runs()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var before = await Tasks.FailOn.WithClient(host.Client).Call(4, 4).ThenAll(Tasks.Square, Tasks.Mark.Bind(key)).Then(Tasks.Sum).EnqueueAsync();
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => before.GetAsync(TestHost.Wait));
        Assert.Equal("wf.fail-on", failed.TaskName);
        Assert.False(WorkflowTasks.Records.ContainsKey(key));

        var step = await Tasks.Add.WithClient(host.Client).Call(1, 1).ThenAll(Tasks.FailOn.Bind(2), Tasks.Square).EnqueueAsync();
        failed = await Assert.ThrowsAsync<TaskFailedException>(() => step.GetAsync(TestHost.Wait));
        Assert.Contains("value 2 is bad", failed.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tasks.Add.Call(1, 1).ThenAll(Array.Empty<ITaskContinuation<int, int>>()));
    }

    [Fact]
    public async Task The_inspector_tells_a_last_step_that_failed_or_runs_from_done_and_a_failure_an_AllSettled_group_took_from_a_stop()
    {
        // Input: a chain whose last step fails (Add(2, 3) then FailOn bound to 5); a chain whose
        // last step runs for a while (Add(1000, 1000) then Linger, 2 s); a settled group of two
        // member chains, the first of which fails at its first call, into SummarizeOutcomes.
        // Expected: the first stopped at its one stage ("the step Failed"), the second waiting
        // for its step (Started), the third done, the member chain's failure being an outcome.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var inspector = TaskInspectorFactory.Create(store);
        var add = Tasks.Add.WithClient(host.Client);

        var failing = await add.Call(2, 3).Then(Tasks.FailOn.Bind(5)).EnqueueAsync();
        await Assert.ThrowsAsync<TaskFailedException>(() => failing.GetAsync(TestHost.Wait));
        var failed = (await inspector.GetWorkflowAsync(failing.Id))!;
        Assert.Equal((0, TaskState.Failed, $"stopped at {failing.Id}: the step Failed"), (failed.StoppedAt, failed.StepState, failed.Where));

        var lingering = await add.Call(1000, 1000).Then(Tasks.Linger).EnqueueAsync();
        await Poll.UntilAsync(async () => (await lingering.GetStateAsync()) == TaskState.Started, "the last step running");
        var running = (await inspector.GetWorkflowAsync(lingering.Id))!;
        Assert.Equal((-1, $"waiting for {lingering.Id} (Started)"), (running.StoppedAt, running.Where));
        Assert.True(await lingering.CancelAsync());

        var settled = await TaskGroup.Of(Tasks.FailOn.WithClient(host.Client).Call(1, 1).Then(Tasks.Square), add.Call(1, 1).Then(Tasks.Square)).AllSettled().Then(Tasks.SummarizeOutcomes).EnqueueAsync();
        await settled.GetAsync(TestHost.Wait);
        var done = (await inspector.GetWorkflowAsync(settled.Id))!;
        Assert.Contains(done.Stages, s => s.State == "failed");
        Assert.Equal((-1, TaskState.Succeeded, "done"), (done.StoppedAt, done.StepState, done.Where));
    }

    [Fact]
    public async Task A_send_canceled_once_it_has_begun_writing_finishes_and_one_canceled_before_writes_nothing()
    {
        // Input: a chord of 300 Add calls (three parts of at most 128) into CountRuns, sent with a
        // token canceled as soon as the store has taken the first part; then the same chord with a
        // token canceled before the send.
        // Expected: the first send returns its handle with all 300 members stored (a send stopped
        // between its parts would leave the join waiting for members never stored, and this store
        // has no recovery to fail them), and the callback runs once with their sum; the second
        // throws OperationCanceledException and stores no task and no join.
        var inner = new InMemoryTaskStore();
        await using var store = new RecordingStore(inner);
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(inner));
        var client = new TaskClient(store);
        var key = Guid.NewGuid().ToString("N");
        var chord = TaskGroup.Of(Enumerable.Range(0, 300).Select(i => Tasks.Add.WithClient(client).Call(i, i))).Then(Tasks.CountRuns.Bind(key));

        using var cancel = new CancellationTokenSource();
        store.AfterEnqueueMany = _ => cancel.Cancel();
        var sent = await chord.EnqueueAsync(cancel.Token);
        Assert.True(cancel.IsCancellationRequested);
        Assert.Equal(300, store.Enqueued.Count);
        Assert.Equal(2 * 44_850, await sent.GetAsync(TestHost.Wait));
        Assert.Equal(1, WorkflowTasks.Runs[key]);

        var joins = store.Joins.Count;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => chord.EnqueueAsync(new CancellationToken(canceled: true)));
        Assert.Equal((300, joins), (store.Enqueued.Count, store.Joins.Count));
    }

    [Fact]
    public async Task A_workflow_nested_deeper_than_32_is_refused_before_anything_is_sent()
    {
        // Input: 40 fan-outs in a row, each inside the part after it. Expected: ArgumentException
        // naming the bound; nothing is stored in the queue.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var chain = Tasks.Add.WithClient(host.Client).Call(1, 1).Then(Tasks.Square);
        for (var i = 0; i < 40; i++)
        {
            chain = chain.ThenAll(Tasks.Square).Then(Tasks.Sum);
        }

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => chain.EnqueueAsync());
        Assert.Contains("nests groups in groups at most 32 deep. Nothing was sent.", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await store.CountAsync("default")).Pending);
    }

    [Fact]
    public async Task A_step_sent_with_a_delay_waits_scheduled_once_made_and_a_part_with_its_own_task_id_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        var later = Tasks.Square.WithClient(host.Client).With(new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        var chain = await Tasks.Add.WithClient(host.Client).Call(1, 2).Then(later).EnqueueAsync();
        await Poll.UntilAsync(async () => (await chain.GetStateAsync()) == TaskState.Scheduled, "the step made and scheduled");
        var due = (await host.Client.Store.ListAsync("default", TaskState.Scheduled, 0, 10)).Single().DueAt!.Value;
        Assert.InRange(due, DateTimeOffset.UtcNow.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.True(await chain.CancelAsync());

        var named = Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { TaskId = "mine" }).Call(1, 2);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => named.Then(Tasks.Square).EnqueueAsync());
        Assert.Contains("was given EnqueueOptions.TaskId 'mine'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await host.Client.Store.CountAsync("default")).Pending);
    }

    [Fact]
    public async Task A_failed_member_chain_fails_the_group_at_once_and_the_steps_of_the_other_chains_never_run()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(worker: w => w.Concurrency = 1, options: o => o.UseInMemory(store));
        var key = Guid.NewGuid().ToString("N");

        // One slot: the failing chain's first call runs first; the others' steps are never made.
        var chains = Enumerable.Range(1, 4).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, 1).Then(Tasks.Mark.Bind(key)));
        var chord = await TaskGroup.Of(chains).EnqueueAsync();
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => chord.GetAsync(TestHost.Wait));
        Assert.EndsWith(".0.0@default", failed.TaskId, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await store.CountAsync("default")) is { Pending: 0, Started: 0 }, "nothing left waiting or running");
        Assert.False(WorkflowTasks.Records.ContainsKey(key));
    }

    [Fact]
    public async Task AllSettled_over_member_chains_reports_a_chain_whose_first_call_failed_as_Failed_not_Canceled()
    {
        // Input: two member chains, the first one's first call throws. A failed member must read
        // Failed in the outcomes, as it does when the member is a plain call.
        await using var host = await TestHost.StartAsync();
        var settled = await TaskGroup.Of(
                Tasks.FailOn.WithClient(host.Client).Call(1, 1).Then(Tasks.Square),
                Tasks.FailOn.WithClient(host.Client).Call(2, 1).Then(Tasks.Square))
            .AllSettled()
            .Then(Tasks.SummarizeOutcomes)
            .EnqueueAsync();
        Assert.Equal("Failed:value 1 is bad,4", await settled.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Members_see_their_workflow_id_and_an_empty_group_ends_at_once_with_no_results()
    {
        await using var host = await TestHost.StartAsync();
        var values = new[] { 7001, 7002 };
        var group = await Tasks.Tag.WithClient(host.Client).Map(values).EnqueueAsync();
        Assert.Equal(values, await group.GetAsync(TestHost.Wait));
        var workflowId = WorkflowTasks.WorkflowIds[7001];
        Assert.False(string.IsNullOrEmpty(workflowId));
        Assert.Equal(workflowId, WorkflowTasks.WorkflowIds[7002]);
        Assert.StartsWith(workflowId + ".", group.Id, StringComparison.Ordinal);

        var empty = await TaskGroup.Of(Array.Empty<TaskCall<int>>()).Then(Tasks.Sum.WithClient(host.Client)).EnqueueAsync();
        Assert.Equal(0, await empty.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_workflow_sends_through_the_client_bound_to_any_of_its_calls_not_only_the_first()
    {
        // Input: a group whose first member is not bound to a client and whose second is, and a chain
        // after an empty group whose first step is not bound and whose second is. Both must go to
        // the bound client's store, never to TaskClient.Current (the last host started by another
        // test, or none at all).
        var store = new InMemoryTaskStore();
        var client = new TaskClient(store);
        await TaskGroup.Of(Tasks.Square.Call(2), Tasks.Square.WithClient(client).Call(3)).EnqueueAsync();
        Assert.Equal(2, (await store.CountAsync("default")).Pending);

        var chain = await TaskGroup.Of(Array.Empty<TaskCall<int>>()).Then(Tasks.Square.Call(4)).Then(Tasks.Square.WithClient(client)).EnqueueAsync();
        Assert.Equal(TaskState.Pending, (await store.GetAsync(chain.Id))!.State);
    }

    [Fact]
    public async Task A_failed_chain_step_fails_the_chain_naming_it_and_the_later_steps_end_canceled_without_running()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var chain = await Tasks.FailOn.WithClient(host.Client).Call(4, 4)
            .Then(Tasks.Square)
            .Then(Tasks.Describe.Bind("cm"))
            .EnqueueAsync();

        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => chain.GetAsync(TestHost.Wait));
        Assert.Equal("wf.fail-on", failed.TaskName);
        Assert.Contains("value 4 is bad", failed.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Failed, (await store.GetAsync(failed.TaskId))!.State);
        Assert.Equal(TaskState.Canceled, (await chain.GetInfoAsync())!.State);
        var middle = chain.Id.Replace(".2@", ".1@", StringComparison.Ordinal);
        Assert.Equal(TaskState.Canceled, (await store.GetAsync(middle))!.State);
        Assert.Equal(0, (await store.CountAsync("default")).Succeeded);
    }

    [Fact]
    public async Task A_failed_member_fails_the_chord_at_once_cancels_the_members_not_started_and_the_callback_never_runs()
    {
        var store = new InMemoryTaskStore();

        // One slot: the first member fails while the others wait in the queue.
        await using var host = await TestHost.StartAsync(worker: w => w.Concurrency = 1, options: o => o.UseInMemory(store));
        var key = Guid.NewGuid().ToString("N");
        var members = new[] { Tasks.FailOn.WithClient(host.Client).Call(1, 1) }
            .Concat(Enumerable.Range(2, 20).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, 1)));
        var chord = await TaskGroup.Of(members).Then(Tasks.CountRuns.Bind(key)).EnqueueAsync();

        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => chord.GetAsync(TestHost.Wait));
        Assert.Contains("value 1 is bad", failed.Message, StringComparison.Ordinal);
        Assert.EndsWith(".0.0@default", failed.TaskId, StringComparison.Ordinal);
        Assert.False(WorkflowTasks.Runs.ContainsKey(key));
        var counts = await store.CountAsync("default");
        Assert.Equal(1, counts.Failed);

        // Nothing is left waiting in the queue: what the worker had not taken (its prefetch holds some) was canceled.
        Assert.Equal(0, counts.Pending);
        Assert.True(counts.Canceled >= 1, $"the members not started are canceled: {counts}");
    }

    [Fact]
    public async Task AllSettled_runs_the_callback_once_with_every_outcome_in_member_order()
    {
        await using var host = await TestHost.StartAsync();
        var members = Enumerable.Range(1, 4).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, 3));
        var settled = await TaskGroup.Of(members).AllSettled().Then(Tasks.SummarizeOutcomes).EnqueueAsync();
        Assert.Equal("1,2,Failed:value 3 is bad,4", await settled.GetAsync(TestHost.Wait));

        var outcomes = await await TaskGroup.Of(members).AllSettled().EnqueueAsync().ContinueWith(t => t.Result.GetAsync(TestHost.Wait));
        Assert.Equal(new[] { TaskState.Succeeded, TaskState.Succeeded, TaskState.Failed, TaskState.Succeeded }, outcomes.Select(o => o.State));
        Assert.Equal("System.InvalidOperationException", outcomes[2].Error!.Type);
    }

    [Fact]
    public async Task A_member_retried_after_failures_counts_once_with_its_final_result()
    {
        await using var host = await TestHost.StartAsync();
        var key = "flaky-" + Guid.NewGuid().ToString("N");
        var chord = await TaskGroup.Of(Tasks.FlakyStep.WithClient(host.Client).Call(5, key), Tasks.Add.WithClient(host.Client).Call(1, 1))
            .Then(Tasks.Sum)
            .EnqueueAsync();
        Assert.Equal(7, await chord.GetAsync(TestHost.Wait));
        Assert.Equal(3, WorkflowTasks.Attempts[key]);
    }

    [Fact]
    public async Task Members_and_steps_on_other_queues_join_in_the_successors_queue()
    {
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["default", "other"]);
        var chord = await TaskGroup.Of(Tasks.OnOtherQueue.WithClient(host.Client).Call(1), Tasks.Add.WithClient(host.Client).Call(1, 1))
            .Then(Tasks.Sum)
            .Then(Tasks.OnOtherQueue)
            .EnqueueAsync();
        Assert.EndsWith("@other", chord.Id, StringComparison.Ordinal);
        Assert.Equal(2003, await chord.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Canceling_a_workflows_handle_cancels_every_step_and_the_members_not_started()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var chain = await Tasks.Square.WithClient(host.Client).Map(new[] { 1, 2, 3 })
            .Then(Tasks.Sum)
            .Then(Tasks.Describe.Bind("cm"))
            .EnqueueAsync();

        Assert.True(await chain.CancelAsync());
        await Assert.ThrowsAsync<TaskRevokedException>(() => chain.GetAsync(TestHost.Wait));
        var counts = await store.CountAsync("default");
        Assert.Equal((0L, 5L), (counts.Pending, counts.Canceled));
        Assert.False(await chain.CancelAsync());
    }
}

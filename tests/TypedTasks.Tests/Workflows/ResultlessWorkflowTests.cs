using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Inspection;
using TypedTasks.Testing;
using TypedTasks.Workflows;

namespace TypedTasks.Tests.Workflows;

/// <summary>
/// Groups of tasks without a result, and steps that take no previous result (<c>Then(Tasks.X.Call(...))</c>),
/// end to end on the in-memory store with a worker in the process.
/// </summary>
public sealed class ResultlessWorkflowTests
{
    [Fact]
    public async Task A_group_of_100_calls_without_a_result_runs_its_callback_once_after_all_with_its_own_arguments()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        var chord = await TaskGroup.Of(Enumerable.Range(0, 100).Select(i => send.Call(key, i))).Then(Tasks.After.Call(key, "sent")).EnqueueAsync();

        // The callback saw every member's work done (0 + 1 + ... + 99) and ran once.
        Assert.Equal("sent: 4950", await chord.GetAsync(TestHost.Wait));
        Assert.Equal(1, WorkflowTasks.Runs[key]);

        // The inspector shows the chord as any other: one stage, 100 members, all ended.
        var workflow = await TaskInspectorFactory.Create(store).GetWorkflowAsync(chord.Id);
        Assert.Equal(("done", 100, 100), (workflow!.Stages[0].State, workflow.Stages[0].Members, workflow.Stages[0].Arrived));

        // The group alone: its handle has no result and ends Succeeded once every member did.
        var alone = Guid.NewGuid().ToString("N");
        var group = await TaskGroup.Of(send.Call(alone, 1), Tasks.SendLaterAsync.WithClient(host.Client).Call(alone, 2), Tasks.SendValueAsync.WithClient(host.Client).Call(alone, 3)).EnqueueAsync();
        await group.GetAsync(TestHost.Wait);
        Assert.Equal((TaskState.Succeeded, 6), ((await group.GetInfoAsync())!.State, WorkflowTasks.Records[alone]));

        // An empty group: its callback is made when the workflow is sent, as written.
        var none = Guid.NewGuid().ToString("N");
        var empty = await TaskGroup.Of(Array.Empty<TaskCall>()).Then(Tasks.After.WithClient(host.Client).Call(none, "none")).EnqueueAsync();
        Assert.Equal("none: 0", await empty.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_failing_member_of_a_group_without_results_fails_it_and_its_callback_ends_canceled_without_running()
    {
        // Input: 100 members, the one at index 50 throws (value -1). Expected: the handle throws
        // TaskFailedException naming wf.send and its message; the callback never ran and reads Canceled.
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        var chord = await TaskGroup.Of(Enumerable.Range(0, 100).Select(i => send.Call(key, i == 50 ? -1 : i))).Then(Tasks.After.Call(key, "sent")).EnqueueAsync();

        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => chord.GetAsync(TestHost.Wait));
        Assert.Equal("wf.send", failed.TaskName);
        Assert.Contains("cannot send -1", failed.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Canceled, (await chord.GetInfoAsync())!.State);
        Assert.False(WorkflowTasks.Runs.ContainsKey(key));

        var group = await TaskGroup.Of(send.Call(key, 1), send.Call(key, -2)).EnqueueAsync();
        failed = await Assert.ThrowsAsync<TaskFailedException>(() => group.GetAsync(TestHost.Wait));
        Assert.Contains("cannot send -2", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_step_that_takes_no_result_runs_after_the_one_before_in_the_middle_or_at_the_end_and_after_a_step_without_a_result()
    {
        await using var host = await TestHost.StartAsync();
        var add = Tasks.Add.WithClient(host.Client);

        // In the middle: Add(10, 1) ignores 25, and Describe gets its 11.
        var middle = await add.Call(2, 3).Then(Tasks.Square).Then(Tasks.Add.Call(10, 1)).Then(Tasks.Describe.Bind("cm")).EnqueueAsync();
        Assert.Equal("11 cm", await middle.GetAsync(TestHost.Wait));

        // At the end, a task without a result, with its own arguments.
        var key = Guid.NewGuid().ToString("N");
        var end = await add.Call(2, 3).Then(Tasks.Send.Call(key, 7)).EnqueueAsync();
        await end.GetAsync(TestHost.Wait);
        Assert.Equal(7, WorkflowTasks.Records[key]);

        // After a call without a result, and a chain ended by a step without a result, continued.
        var after = await Tasks.Send.WithClient(host.Client).Call(key, 1).Then(Tasks.Add.Call(4, 5)).EnqueueAsync();
        Assert.Equal(9, await after.GetAsync(TestHost.Wait));
        Assert.Equal(8, WorkflowTasks.Records[key]);
        var remembered = Guid.NewGuid().ToString("N");
        var continued = await add.Call(1, 1).Then(Tasks.Remember.Bind(remembered)).Then(Tasks.Add.Call(6, 6)).Then(Tasks.Square).EnqueueAsync();
        Assert.Equal(144, await continued.GetAsync(TestHost.Wait));
        Assert.Equal(2, WorkflowTasks.Records[remembered]);
        var chained = await Tasks.Send.WithClient(host.Client).Call(key, 2).Then(Tasks.Send.Call(key, 3)).Then(Tasks.After.Call(key, "then")).EnqueueAsync();
        Assert.Equal("then: 13", await chained.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_step_that_takes_no_result_never_runs_when_the_step_before_it_failed()
    {
        // Input: FailOn(4, 4) throws, then Send(key, 1) and After(key). Expected: the handle throws
        // TaskFailedException naming wf.fail-on; neither later step ran.
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var chain = await Tasks.FailOn.WithClient(host.Client).Call(4, 4).Then(Tasks.Send.Call(key, 1)).Then(Tasks.After.Call(key, "x")).EnqueueAsync();
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => chain.GetAsync(TestHost.Wait));
        Assert.Equal("wf.fail-on", failed.TaskName);
        Assert.False(WorkflowTasks.Records.ContainsKey(key));
        Assert.False(WorkflowTasks.Runs.ContainsKey(key));
    }

    [Fact]
    public async Task AllSettled_on_a_group_without_results_runs_its_callback_once_with_one_failing_member()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        var members = new TaskCall[] { send.Call(key, 1), send.Call(key, -1), Tasks.SendLaterAsync.WithClient(host.Client).Call(key, 2) };

        var settled = await TaskGroup.Of(members).AllSettled().Then(Tasks.After.Call(key, "settled")).EnqueueAsync();
        Assert.Equal("settled: 3", await settled.GetAsync(TestHost.Wait));
        Assert.Equal(1, WorkflowTasks.Runs[key]);

        // The outcomes themselves: a callback taking TaskOutcome[], and the settled group's own handle.
        var tally = await TaskGroup.Of(members).AllSettled().Then(Tasks.Tally).EnqueueAsync();
        Assert.Equal("ok,Failed:cannot send -1,ok", await tally.GetAsync(TestHost.Wait));
        var outcomes = await (await TaskGroup.Of(members).AllSettled().EnqueueAsync()).GetAsync(TestHost.Wait);
        Assert.Equal(new[] { TaskState.Succeeded, TaskState.Failed, TaskState.Succeeded }, outcomes.Select(o => o.State));
        Assert.Equal("cannot send -1", outcomes[1].Error!.Message);
    }

    [Fact]
    public async Task A_typed_group_keeps_its_results_and_calls_typed_as_TaskCall_or_parts_of_mixed_types_make_a_group_without_results()
    {
        await using var host = await TestHost.StartAsync();
        var add = Tasks.Add.WithClient(host.Client);
        IEnumerable<TaskCall<int>> calls = [add.Call(1, 1), add.Call(2, 2)];

        TaskGroup<int> typed = TaskGroup.Of(calls);
        Assert.Equal(new[] { 2, 4 }, await (await typed.EnqueueAsync()).GetAsync(TestHost.Wait));

        // The same calls seen as TaskCall: a group whose results are not kept; it still runs every member.
        TaskGroup untyped = TaskGroup.Of((IEnumerable<TaskCall>)calls);
        var handle = await untyped.EnqueueAsync();
        await handle.GetAsync(TestHost.Wait);
        Assert.Equal(TaskState.Succeeded, (await handle.GetInfoAsync())!.State);

        // Members of several shapes: a chain ending without a result, a call with one, a typed group.
        var key = Guid.NewGuid().ToString("N");
        var mixed = await TaskGroup.Of(add.Call(3, 4).Then(Tasks.Remember.Bind(key)), Tasks.Send.WithClient(host.Client).Call(key, 5), Tasks.Square.WithClient(host.Client).Map(new[] { 2 }))
            .Then(Tasks.After.Call(key, "mixed"))
            .EnqueueAsync();
        Assert.Equal("mixed: 12", await mixed.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task An_open_call_where_a_full_call_is_expected_is_refused_and_nothing_is_sent()
    {
        // Input: the open call of a step (its first argument left for the previous result), given
        // where every argument must be bound. Expected: ArgumentException saying so; nothing stored.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var open = Tasks.Describe.WithClient(host.Client).Bind("cm").Open;

        var then = Assert.Throws<ArgumentException>(() => Tasks.Add.WithClient(host.Client).Call(1, 2).Then(open));
        Assert.Contains("wf.describe: this call has its first argument open", then.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TaskGroup.Of(new TaskCall[] { open }));
        Assert.Throws<ArgumentException>(() => TaskGroup.Of(Tasks.Square.WithClient(host.Client).Map(new[] { 1 })).Then(((ITaskContinuation<int, int>)Tasks.Square).Open));
        Assert.Throws<ArgumentException>(() => TaskGroup.Of(open, Tasks.Describe.Call(1, "cm")));

        // A chain that starts with an open call is refused when it is sent.
        var sent = await Assert.ThrowsAsync<ArgumentException>(() => open.Then(Tasks.Add.Call(1, 1)).EnqueueAsync());
        Assert.Contains("first argument open", sent.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await store.CountAsync("default")).Pending);
    }
}

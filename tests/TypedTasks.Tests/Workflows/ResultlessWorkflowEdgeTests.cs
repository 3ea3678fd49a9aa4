using System;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Testing;
using TypedTasks.Workflows;

namespace TypedTasks.Tests.Workflows;

/// <summary>
/// Groups without results and steps that take none, where they meet other parts: settled groups
/// nested in a typed group, members canceled before they ran, members that end with a result,
/// fan-outs, a canceled chord, and open calls hidden inside other parts.
/// </summary>
public sealed class ResultlessWorkflowEdgeTests
{
    [Fact]
    public async Task Settled_groups_without_results_nested_in_a_typed_group_give_each_members_outcome()
    {
        // Input: a typed group of two settled groups of tasks without a result, one member failing.
        // Expected: TaskOutcome[][] in member order, the failing member's error kept.
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        TaskGroup<TaskOutcome[]> nested = TaskGroup.Of(TaskGroup.Of(send.Call(key, 1), send.Call(key, -3)).AllSettled(), TaskGroup.Of(send.Call(key, 2)).AllSettled());

        var outcomes = await (await nested.EnqueueAsync()).GetAsync(TestHost.Wait);

        Assert.Equal(new[] { 2, 1 }, outcomes.Select(o => o.Length));
        Assert.Equal(new[] { TaskState.Succeeded, TaskState.Failed, TaskState.Succeeded }, outcomes.SelectMany(o => o).Select(o => o.State));
        Assert.Equal("cannot send -3", outcomes[0][1].Error!.Message);
    }

    [Fact]
    public async Task AllSettled_over_members_canceled_before_they_ran_gives_Canceled_outcomes_without_an_error()
    {
        // Input: a settled group of 2 tasks without a result, no worker; both members canceled by id.
        // Expected: the group's own result (made by the store) reads as two Canceled outcomes.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var send = Tasks.Send.WithClient(host.Client);
        var handle = await TaskGroup.Of(send.Call("c", 1), send.Call("c", 2)).AllSettled().EnqueueAsync();
        var workflow = handle.Id[..handle.Id.IndexOf('.', StringComparison.Ordinal)];

        Assert.True(await store.CancelAsync($"{workflow}.0.0@default"));
        Assert.True(await store.CancelAsync($"{workflow}.0.1@default"));

        var outcomes = await handle.GetAsync(TestHost.Wait);
        Assert.Equal(new[] { TaskState.Canceled, TaskState.Canceled }, outcomes.Select(o => o.State));
        Assert.All(outcomes, o => Assert.False(o.Succeeded));
    }

    [Fact]
    public async Task Members_that_end_with_a_result_are_passed_over_by_a_group_without_results_and_its_settled_callback()
    {
        // Input: a group without results whose members are a chain ending in a typed step (a step that
        // takes no result, then Add), a typed group, and a task without a result. Expected: the
        // settled callback reads three successes (their results skipped), the plain chord runs once.
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        IWorkflow[] members = [send.Call(key, 1).Then(Tasks.Add.Call(2, 3)), Tasks.Square.WithClient(host.Client).Map(new[] { 4, 5 }), send.Call(key, 2)];

        var tally = await TaskGroup.Of(members).AllSettled().Then(Tasks.Tally).EnqueueAsync();
        Assert.Equal("ok,ok,ok", await tally.GetAsync(TestHost.Wait));

        var chord = await TaskGroup.Of(members).Then(Tasks.After.Call(key, "after")).EnqueueAsync();
        Assert.Equal("after: 6", await chord.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_step_that_takes_no_result_after_a_fan_out_runs_once_after_every_branch()
    {
        // Input: Add(2, 3), a fan-out of two Squares, then Add(10, 1) with its own arguments.
        // Expected: 11, and a step that takes a result after it gets 11.
        await using var host = await TestHost.StartAsync();
        var fan = await Tasks.Add.WithClient(host.Client).Call(2, 3).ThenAll(Tasks.Square, Tasks.Square).Then(Tasks.Add.Call(10, 1)).Then(Tasks.Square).EnqueueAsync();
        Assert.Equal(121, await fan.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task Canceling_a_chord_whose_callback_takes_no_result_cancels_it_and_its_members()
    {
        // Input: a group of two tasks without a result then After(key), no worker; the handle canceled.
        // Expected: the callback reads Canceled, both members are Canceled, nothing ran.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        var chord = await TaskGroup.Of(send.Call(key, 1), send.Call(key, 2)).Then(Tasks.After.Call(key, "x")).EnqueueAsync();
        var workflow = chord.Id[..chord.Id.IndexOf('.', StringComparison.Ordinal)];

        Assert.True(await chord.CancelAsync());

        Assert.Equal(TaskState.Canceled, (await chord.GetInfoAsync())!.State);
        Assert.Equal(TaskState.Canceled, (await store.GetAsync($"{workflow}.0.0@default"))!.State);
        Assert.Equal(TaskState.Canceled, (await store.GetAsync($"{workflow}.0.1@default"))!.State);
        Assert.Equal(0, (await store.CountAsync("default")).Pending);
    }

    [Fact]
    public async Task An_open_call_inside_another_part_of_a_group_is_refused_and_nothing_is_sent()
    {
        // Input: the open call of a step hidden in a typed group's IWorkflow<T> members, at the start
        // of a chain that is a member, and before a fan-out. Expected: ArgumentException, nothing stored.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var open = ((ITaskContinuation<int, int>)Tasks.Square.WithClient(host.Client)).Open;

        Assert.Throws<ArgumentException>(() => TaskGroup.Of(new IWorkflow<int>[] { open, Tasks.Add.Call(1, 1) }));
        // Refused when sent: the error says nothing was sent (the parts were built before).
        var sent = await Assert.ThrowsAsync<ArgumentException>(() => TaskGroup.Of(open.Then(Tasks.Send.Call("k", 1)), Tasks.Send.Call("k", 2)).EnqueueAsync());
        Assert.Contains("wf.square: this call has its first argument open", sent.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent.", sent.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => TaskGroup.Of(open.ThenAll(Tasks.Square), Tasks.Add.Call(1, 1).ThenAll(Tasks.Square)).EnqueueAsync());
        Assert.Equal(0, (await store.CountAsync("default")).Pending);
    }
}

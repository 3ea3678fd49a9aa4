using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using TypedTasks.TestWorker;
using TypedTasks.Testing;
using TypedTasks.Workflows;

namespace TypedTasks.Redis.IntegrationTests.Workflows;

/// <summary>
/// Workflows end to end on a real Redis, with members and steps on several queues ("default",
/// "members", "reports"): on a Cluster these are different slots, so every join is reached through
/// the member queue's outbox.
/// </summary>
public abstract class RedisWorkflowTests
{
    private static readonly string[] Queues = ["default", "members", "reports"];

    protected abstract string Endpoint { get; }

    [Fact]
    public async Task A_chain_of_three_with_Bind_across_queues_gives_the_last_steps_result()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var chain = await Tasks.FailOn.WithClient(host.Client).Call(5, -1)
            .Then(Tasks.SquareOf)
            .Then(Tasks.Describe.Bind("cm"))
            .EnqueueAsync();
        Assert.EndsWith("@reports", chain.Id, StringComparison.Ordinal);
        Assert.Equal("25 cm", await chain.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task A_group_of_1000_gives_its_results_in_member_order_and_a_chord_sums_them_once()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => { w.Queues = [.. Queues]; w.Concurrency = 32; });
        var calls = Enumerable.Range(0, 1000).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, -1)).ToList();

        var group = await TaskGroup.Of(calls).EnqueueAsync();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), await group.GetAsync(RedisHost.Wait));

        var chord = await TaskGroup.Of(calls).Then(Tasks.Sum).EnqueueAsync();
        Assert.Equal(499_500, await chord.GetAsync(RedisHost.Wait));
        var info = await chord.GetInfoAsync();
        Assert.Equal((TaskState.Succeeded, 1), (info!.State, info.Attempt));
    }

    [Fact]
    public async Task Map_then_a_chord_inside_a_chain_composes()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var nested = await Tasks.SquareOf.WithClient(host.Client).Map(new long[] { 1, 2, 3 })
            .Then(Tasks.Sum)
            .Then(Tasks.SquareOf)
            .Then(Tasks.Describe.Bind("m²"))
            .EnqueueAsync();
        Assert.Equal("196 m²", await nested.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Groups_of_chains_chords_and_groups_compose_across_queues_and_a_chain_can_end_with_a_task_without_a_result()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);

        // Each member a chain over "members", "default" and "reports"; the callback on "reports".
        var chains = Enumerable.Range(1, 4).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, -1).Then(Tasks.SquareOf));
        var chordOfChains = await TaskGroup.Of(chains).Then(Tasks.SumElsewhere).EnqueueAsync();
        Assert.Equal(30, await chordOfChains.GetAsync(RedisHost.Wait));

        // A group whose members are a chord, a group and a call: results nest in member order.
        var chord = Tasks.SquareOf.WithClient(host.Client).Map(new long[] { 1, 2 }).Then(Tasks.Sum).Then(Tasks.SquareOf);
        var inner = TaskGroup.Of(Tasks.FailOn.WithClient(host.Client).Call(7, -1), Tasks.FailOn.WithClient(host.Client).Call(8, -1));
        var mixed = await TaskGroup.Of(chord, inner.Then(Tasks.Sum), Tasks.SquareOf.WithClient(host.Client).Call(3)).Then(Tasks.Sum).EnqueueAsync();
        Assert.Equal(25 + 15 + 9, await mixed.GetAsync(RedisHost.Wait));
        var nested = await TaskGroup.Of(inner, TaskGroup.Of(Tasks.SquareOf.WithClient(host.Client).Call(4))).EnqueueAsync();
        Assert.Equal(new[] { new long[] { 7, 8 }, [16] }, await nested.GetAsync(RedisHost.Wait));

        // A last step without a result: the handle ends Succeeded once it ran, once.
        var key = Guid.NewGuid().ToString("N");
        var noted = await Tasks.FailOn.WithClient(host.Client).Call(6, -1).Then(Tasks.SquareOf).Then(Tasks.Note.Bind(key)).EnqueueAsync();
        await noted.GetAsync(RedisHost.Wait);
        Assert.Equal(36, WorkerTasks.Notes[key]);
        var chordKey = Guid.NewGuid().ToString("N");
        var summed = await TaskGroup.Of(chains).Then(Tasks.SumElsewhere).Then(Tasks.Note.Bind(chordKey)).EnqueueAsync();
        await summed.GetAsync(RedisHost.Wait);
        Assert.Equal((TaskState.Succeeded, 30L), ((await summed.GetInfoAsync())!.State, WorkerTasks.Notes[chordKey]));

        // Every member ended and was delivered: no queue keeps a link (one per member, for ever, before).
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Endpoint);
        foreach (var queue in Queues)
        {
            Assert.Equal(0, await connection.GetDatabase().HashLengthAsync($"{host.Prefix}:{{{queue}}}:link"));
        }
    }

    [Fact]
    public async Task A_group_of_100_calls_without_a_result_runs_its_callback_once_after_all_and_a_failing_member_cancels_it()
    {
        // Members on "members", the callback on "reports": every delivery crosses queues.
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => { w.Queues = [.. Queues]; w.Concurrency = 16; });
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        var chord = await TaskGroup.Of(Enumerable.Range(0, 100).Select(i => send.Call(key, i))).Then(Tasks.After.Call(key, "sent")).EnqueueAsync();
        Assert.Equal("sent: 4950", await chord.GetAsync(RedisHost.Wait));
        Assert.Equal(1, WorkerTasks.Calls[key]);

        // Input: the member at index 50 throws. Expected: TaskFailedException naming it; the callback ends Canceled, never run.
        var failing = Guid.NewGuid().ToString("N");
        var failed = await TaskGroup.Of(Enumerable.Range(0, 100).Select(i => send.Call(failing, i == 50 ? -1 : i))).Then(Tasks.After.Call(failing, "sent")).EnqueueAsync();
        var error = await Assert.ThrowsAsync<TaskFailedException>(() => failed.GetAsync(RedisHost.Wait));
        Assert.Equal(("it.send", ".0.50@members"), (error.TaskName, error.TaskId[^13..]));
        Assert.Equal(TaskState.Canceled, (await failed.GetInfoAsync())!.State);
        Assert.False(WorkerTasks.Calls.ContainsKey(failing));

        // The group alone ends Succeeded, its members' nils collected without decoding them.
        var alone = await TaskGroup.Of(send.Call(key, 1), Tasks.Record.WithClient(host.Client).Call(key)).EnqueueAsync();
        await alone.GetAsync(RedisHost.Wait);
        Assert.Equal(TaskState.Succeeded, (await alone.GetInfoAsync())!.State);

        // An empty group: its callback is made by join.lua when the workflow is sent, as written.
        var none = Guid.NewGuid().ToString("N");
        var empty = await TaskGroup.Of(Array.Empty<TaskCall>()).Then(Tasks.After.WithClient(host.Client).Call(none, "none")).EnqueueAsync();
        Assert.Equal("none: 0", await empty.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task A_step_that_takes_no_result_runs_in_the_middle_at_the_end_and_after_a_step_without_a_result_across_queues()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var key = Guid.NewGuid().ToString("N");

        // In the middle: SquareOf(3) ignores FailOn's 5, and Describe gets its 9.
        var middle = await Tasks.FailOn.WithClient(host.Client).Call(5, -1).Then(Tasks.SquareOf.Call(3)).Then(Tasks.Describe.Bind("cm")).EnqueueAsync();
        Assert.Equal("9 cm", await middle.GetAsync(RedisHost.Wait));

        // At the end, after a call without a result, and a chain ended by a step without a result, continued.
        var end = await Tasks.Send.WithClient(host.Client).Call(key, 2).Then(Tasks.Send.Call(key, 3)).Then(Tasks.After.Call(key, "end")).EnqueueAsync();
        Assert.Equal("end: 5", await end.GetAsync(RedisHost.Wait));
        var continued = await Tasks.FailOn.WithClient(host.Client).Call(6, -1).Then(Tasks.Note.Bind(key)).Then(Tasks.SquareOf.Call(4)).EnqueueAsync();
        Assert.Equal(16, await continued.GetAsync(RedisHost.Wait));
        Assert.Equal(11, WorkerTasks.Notes[key]);
    }

    [Fact]
    public async Task A_workflow_whose_send_failed_part_way_ends_the_members_never_stored_as_failed_once_their_time_is_past()
    {
        // Input: the "members" queue's sequence key holds a string, so that the part of a send for
        // that queue is refused after the joins and the part for "default" were stored (as when a
        // sender stops between the calls of one send). A settled group of SquareOf(1..3) on
        // "default" and FailOn(10), FailOn(11) on "members", then a chord of the same into Sum.
        // The sender's stores must be stored within 1 s (SendGrace).
        // Expected: each send fails naming the key; once the second is past, recovery delivers the
        // two members never stored as failed (TypedTasks.TaskNeverStored, naming the member): the
        // settled callback runs once with three results and two failures, and the chord fails
        // with that error; each join leaves the sending set.
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = ["default"], redis: r => r.SafetyLookInterval = TimeSpan.FromMilliseconds(300));
        host.Store.SendGrace = TimeSpan.FromSeconds(1);
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Endpoint);
        var db = connection.GetDatabase();
        await db.StringSetAsync($"{host.Prefix}:{{members}}:seq", "not a hash");
        var sending = (StackExchange.Redis.RedisKey)$"{host.Prefix}:{{default}}:sending";
        TaskCall<long>[] members = [.. new long[] { 1, 2, 3 }.Select(v => Tasks.SquareOf.WithClient(host.Client).Call(v)), Tasks.FailOn.WithClient(host.Client).Call(10, -1), Tasks.FailOn.WithClient(host.Client).Call(11, -1)];

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => TaskGroup.Of(members).AllSettled().Then(Tasks.Outcomes).EnqueueAsync());
        Assert.Contains("{members}:seq holds a string", refused.Message, StringComparison.Ordinal);
        var settledJoin = (string)Assert.Single(await db.SortedSetRangeByRankAsync(sending))!;
        var settled = Tasks.Outcomes.WithClient(host.Client).GetResult(settledJoin + "@default");
        Assert.Equal("1,4,9,Failed,Failed", await settled.GetAsync(RedisHost.Wait));
        Assert.Equal((TaskState.Succeeded, 1), ((await settled.GetInfoAsync())!.State, (await settled.GetInfoAsync())!.Attempt));
        Assert.Empty(await db.SortedSetRangeByRankAsync(sending));

        await Assert.ThrowsAnyAsync<Exception>(() => TaskGroup.Of(members).Then(Tasks.Sum).EnqueueAsync());
        var chordJoin = (string)Assert.Single(await db.SortedSetRangeByRankAsync(sending))!;
        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => Tasks.Sum.WithClient(host.Client).GetResult(chordJoin + "@default").GetAsync(RedisHost.Wait));
        Assert.Equal("TypedTasks.TaskNeverStored", failure.Error.Type);
        Assert.Matches($"^Task {chordJoin[..16]}\\.0\\.[34]@members of the workflow was not stored: the program that sent the workflow stopped", failure.Error.Message);
        await Poll.UntilAsync(async () => (await db.SortedSetLengthAsync(sending)) == 0, "the chord's join left the sending set");
    }

    [Fact]
    public async Task A_workflow_sent_whole_is_sealed_and_its_members_not_run_when_its_time_is_past_are_left_to_run()
    {
        // Input: a chord of FailOn(1..3) on "members" into Sum on "default", sent with 1 s to
        // store its members; only "default" is served for 2 s.
        // Expected: the send seals its join (not in the sending set once EnqueueAsync returns);
        // nothing is delivered (open, 0 of 3); once "members" is served, the chord sums all three.
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = ["default"], redis: r => r.SafetyLookInterval = TimeSpan.FromMilliseconds(300));
        host.Store.SendGrace = TimeSpan.FromSeconds(1);
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Endpoint);
        var sending = (StackExchange.Redis.RedisKey)$"{host.Prefix}:{{default}}:sending";

        var chord = await TaskGroup.Of(new long[] { 1, 2, 3 }.Select(v => Tasks.FailOn.WithClient(host.Client).Call(v, -1))).Then(Tasks.Sum).EnqueueAsync();
        var join = chord.Id[..chord.Id.LastIndexOf('@')];
        Assert.Equal(0, await connection.GetDatabase().SortedSetLengthAsync(sending));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = (await host.Store.GetJoinAsync("default", join))!;
        Assert.Equal(("open", 0), (waiting.State, waiting.Arrived));

        await using var members = await RedisHost.StartAsync(Endpoint, prefix: host.Prefix, worker: w => w.Queues = ["members"]);
        Assert.Equal(6, await chord.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task AllSettled_on_a_group_without_results_runs_its_callback_once_with_one_failing_member()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);
        var members = new TaskCall[] { send.Call(key, 1), send.Call(key, -1), send.Call(key, 2) };

        var settled = await TaskGroup.Of(members).AllSettled().Then(Tasks.After.Call(key, "settled")).EnqueueAsync();
        Assert.Equal("settled: 3", await settled.GetAsync(RedisHost.Wait));
        Assert.Equal(1, WorkerTasks.Calls[key]);
        var tally = await TaskGroup.Of(members).AllSettled().Then(Tasks.Tally).EnqueueAsync();
        Assert.Equal("ok,Failed:cannot send -1,ok", await tally.GetAsync(RedisHost.Wait));

        // The inspector shows the chord's stage with its member that did not succeed.
        var workflow = await TypedTasks.Inspection.TaskInspectorFactory.Create(host.Store).GetWorkflowAsync(settled.Id);
        Assert.Equal(("done", 3, 3, TaskState.Failed), (workflow!.Stages[0].State, workflow.Stages[0].Members, workflow.Stages[0].Arrived, workflow.Stages[0].Outcomes[1]));
    }

    [Fact]
    public async Task Groups_without_results_meet_other_parts_across_queues_settled_nested_mixed_members_and_a_fan_out()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var key = Guid.NewGuid().ToString("N");
        var send = Tasks.Send.WithClient(host.Client);

        // Settled groups without results nested in a typed group: TaskOutcome[][], the failure's error kept.
        var nested = await TaskGroup.Of(TaskGroup.Of(send.Call(key, 1), send.Call(key, -3)).AllSettled(), TaskGroup.Of(send.Call(key, 2)).AllSettled()).EnqueueAsync();
        var outcomes = await nested.GetAsync(RedisHost.Wait);
        Assert.Equal(new[] { TaskState.Succeeded, TaskState.Failed, TaskState.Succeeded }, outcomes.SelectMany(o => o).Select(o => o.State));
        Assert.Equal("cannot send -3", outcomes[0][1].Error!.Message);

        // Members that end with a result (a chain ending in a typed step, a typed group) are passed over.
        IWorkflow[] members = [send.Call(key, 4).Then(Tasks.SquareOf.Call(3)), Tasks.SquareOf.WithClient(host.Client).Map(new long[] { 4, 5 }), send.Call(key, 5)];
        var tally = await TaskGroup.Of(members).AllSettled().Then(Tasks.Tally).EnqueueAsync();
        Assert.Equal("ok,ok,ok", await tally.GetAsync(RedisHost.Wait));
        var chord = await TaskGroup.Of(members).Then(Tasks.After.Call(key, "after")).EnqueueAsync();
        Assert.Equal("after: 21", await chord.GetAsync(RedisHost.Wait));

        // After a fan-out: SquareOf(3) ignores [25, 25] and Describe gets its 9.
        var fan = await Tasks.FailOn.WithClient(host.Client).Call(5, -1).ThenAll(Tasks.SquareOf, Tasks.SquareOf).Then(Tasks.SquareOf.Call(3)).Then(Tasks.Describe.Bind("cm")).EnqueueAsync();
        Assert.Equal("9 cm", await fan.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task A_settled_group_without_results_whose_members_were_canceled_and_a_canceled_chord_that_takes_no_result()
    {
        // No worker: members are canceled by id before they run.
        await using var host = await RedisHost.StartAsync(Endpoint, withWorker: false);
        var send = Tasks.Send.WithClient(host.Client);
        var settled = await TaskGroup.Of(send.Call("c", 1), send.Call("c", 2)).AllSettled().EnqueueAsync();
        var workflow = settled.Id[..settled.Id.IndexOf('.', StringComparison.Ordinal)];
        Assert.True(await host.Store.CancelAsync($"{workflow}.0.0@members"));
        Assert.True(await host.Store.CancelAsync($"{workflow}.0.1@members"));
        Assert.Equal(new[] { TaskState.Canceled, TaskState.Canceled }, (await settled.GetAsync(RedisHost.Wait)).Select(o => o.State));

        // Input: a chord of two members then After (takes no result), its handle canceled.
        // Expected: the callback reads revoked, both members Canceled, nothing left to run.
        var chord = await TaskGroup.Of(send.Call("d", 1), send.Call("d", 2)).Then(Tasks.After.Call("d", "x")).EnqueueAsync();
        Assert.True(await chord.CancelAsync());
        await Assert.ThrowsAsync<TaskRevokedException>(() => chord.GetAsync(RedisHost.Wait));
        Assert.Equal((0L, 4L), ((await host.Store.CountAsync("members")).Pending, (await host.Store.CountAsync("members")).Canceled));
        Assert.Equal((0L, 1L), ((await host.Store.CountAsync("reports")).Pending, (await host.Store.CountAsync("reports")).Canceled));
    }

    [Fact]
    public async Task AllSettled_over_a_group_without_results_whose_member_expired_gives_an_Expired_outcome_and_runs_its_callback()
    {
        // Input: a settled group of a task without a result that expires 50 ms after it is sent and
        // one that does not, sent with no worker; a worker starts after 300 ms. Expected: outcomes
        // [Expired with the error TypedTasks.TaskExpired, Succeeded without one], and a callback
        // that takes no result runs once.
        var prefix = RedisHost.NewPrefix();
        var key = Guid.NewGuid().ToString("N");
        AsyncResult<TaskOutcome[]> outcomes;
        AsyncResult<string> after;
        await using (var producer = await RedisHost.StartAsync(Endpoint, prefix, withWorker: false))
        {
            var send = Tasks.Send.WithClient(producer.Client);
            var expiring = send.With(new EnqueueOptions { Expires = TimeSpan.FromMilliseconds(50) });
            outcomes = await TaskGroup.Of(expiring.Call(key, 1), send.Call(key, 2)).AllSettled().EnqueueAsync();
            after = await TaskGroup.Of(expiring.Call(key, 4), send.Call(key, 8)).AllSettled().Then(Tasks.After.Call(key, "after")).EnqueueAsync();
            await Task.Delay(300);
        }

        await using var host = await RedisHost.StartAsync(Endpoint, prefix, worker: w => w.Queues = [.. Queues]);
        var read = await host.Client.GetResult<TaskOutcome[]>(outcomes.Id).GetAsync(RedisHost.Wait);
        Assert.Equal(new[] { TaskState.Expired, TaskState.Succeeded }, read.Select(o => o.State));
        Assert.Equal(new[] { "TypedTasks.TaskExpired", null }, read.Select(o => o.Error?.Type));
        Assert.Equal("after: 10", await host.Client.GetResult<string>(after.Id).GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task An_empty_group_without_results_nested_beside_a_member_and_a_delayed_step_that_takes_no_result()
    {
        // Input: a group of an empty group (its join made when sent) and a task without a result,
        // then After sent with a 300 ms delay. Expected: After runs once, after the member's work.
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var key = Guid.NewGuid().ToString("N");
        var delayed = Tasks.After.With(new EnqueueOptions { Delay = TimeSpan.FromMilliseconds(300) }).Call(key, "late");
        var chord = await TaskGroup.Of(TaskGroup.Of(Array.Empty<TaskCall>()), Tasks.Send.WithClient(host.Client).Call(key, 7)).Then(delayed).EnqueueAsync();
        Assert.Equal("late: 7", await chord.GetAsync(RedisHost.Wait));
        Assert.Equal(1, WorkerTasks.Calls[key]);
    }

    [Fact]
    public async Task A_chain_fans_out_across_queues_and_its_callback_gets_every_steps_result()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);

        // The member on "members"; the steps on "default" and "members"; the callback on "reports".
        var fan = await Tasks.FailOn.WithClient(host.Client).Call(3, -1)
            .ThenAll(Tasks.SquareOf, Tasks.FailOn.Bind(-1))
            .Then(Tasks.SumElsewhere)
            .EnqueueAsync();
        Assert.Equal(12, await fan.GetAsync(RedisHost.Wait));

        var failing = await Tasks.FailOn.WithClient(host.Client).Call(3, 3).ThenAll(Tasks.SquareOf, Tasks.FailOn.Bind(-1)).Then(Tasks.SumElsewhere).EnqueueAsync();
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => failing.GetAsync(RedisHost.Wait));
        Assert.Equal("it.fail-on", failed.TaskName);
        await Poll.UntilAsync(async () => (await host.Store.CountAsync("default")).Canceled == 1, "the fanned-out step canceled");
    }

    [Fact]
    public async Task A_failed_step_inside_a_member_chain_fails_the_group_and_the_other_chains_later_steps_never_run()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, withWorker: false);
        var key = Guid.NewGuid().ToString("N");
        var chains = Enumerable.Range(1, 3).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, 2).Then(Tasks.SquareOf).Then(Tasks.Describe.Bind(key)));
        var group = await TaskGroup.Of(chains).EnqueueAsync();

        // Only the members' queue is served at first: member 2 fails there, before any later step is made.
        await using (var members = await RedisHost.StartAsync(Endpoint, prefix: host.Prefix, worker: w => w.Queues = ["members"]))
        {
            var failed = await Assert.ThrowsAsync<TaskFailedException>(() => group.GetAsync(RedisHost.Wait));
            Assert.Equal(("it.fail-on", ".0.1@members"), (failed.TaskName, failed.TaskId[^12..]));
        }

        // Every later step of every chain ends Canceled without running, on both of their queues.
        await Poll.UntilAsync(async () => (await host.Store.CountAsync("reports")).Canceled == 3, "the chains' last steps canceled", RedisHost.Wait);
        var defaults = await host.Store.CountAsync("default");
        var reports = await host.Store.CountAsync("reports");
        Assert.Equal((0L, 3L, 0L), (defaults.Pending, defaults.Canceled, defaults.Succeeded));
        Assert.Equal((0L, 3L, 0L), (reports.Pending, reports.Canceled, reports.Succeeded));
        Assert.Equal(TaskState.Failed, (await group.GetInfoAsync())!.State);
    }

    [Fact]
    public async Task Canceling_a_group_of_chains_cancels_every_step_and_member_not_started()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, withWorker: false);
        var chains = Enumerable.Range(1, 3).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, -1).Then(Tasks.SquareOf).Then(Tasks.Describe.Bind("cm")));
        var group = await TaskGroup.Of(chains).EnqueueAsync();

        Assert.True(await group.CancelAsync());
        await Assert.ThrowsAsync<TaskRevokedException>(() => group.GetAsync(RedisHost.Wait));
        await Poll.UntilAsync(async () => (await host.Store.CountAsync("members")).Canceled == 3, "the chains' first calls canceled", RedisHost.Wait);
        Assert.Equal(0, (await host.Store.CountAsync("members")).Pending);
        Assert.Equal(3, (await host.Store.CountAsync("default")).Canceled);
        Assert.Equal(3 + 1, (await host.Store.CountAsync("reports")).Canceled);
    }

    [Fact]
    public async Task A_failed_member_fails_the_chord_naming_it_and_AllSettled_still_runs_its_callback_once()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var members = Enumerable.Range(1, 5).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, 3)).ToList();

        var chord = await TaskGroup.Of(members).Then(Tasks.Sum).Then(Tasks.Describe.Bind("x")).EnqueueAsync();
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => chord.GetAsync(RedisHost.Wait));
        Assert.Equal("it.fail-on", failed.TaskName);
        Assert.EndsWith(".0.2@members", failed.TaskId, StringComparison.Ordinal);
        Assert.Contains("value 3 is bad", failed.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Canceled, (await chord.GetInfoAsync())!.State);

        var settled = await TaskGroup.Of(members).AllSettled().Then(Tasks.Outcomes).EnqueueAsync();
        Assert.Equal("1,2,Failed,4,5", await settled.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task A_step_not_made_yet_reads_as_pending_and_its_wait_ends_when_it_is_made_and_done()
    {
        // No worker serves "reports" yet: the chain stops before its last step, visibly.
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = ["default", "members"]);
        var chain = await Tasks.FailOn.WithClient(host.Client).Call(4, -1).Then(Tasks.Describe.Bind("kg")).EnqueueAsync();
        var before = await chain.GetInfoAsync();
        Assert.Equal((TaskState.Pending, "it.describe"), (before!.State, before.TaskName));

        await using var reports = await RedisHost.StartAsync(Endpoint, prefix: host.Prefix, worker: w => w.Queues = ["reports"]);
        Assert.Equal("4 kg", await chain.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Dead_retry_runs_a_failed_groups_member_again_and_says_why_the_groups_own_result_stays_failed()
    {
        // Input: a group of it.fail-on(1, 2) and it.fail-on(2, 2) on "members", sent alone: the
        // second member fails, and so does the group's own result (which no task runs). Then, with
        // no worker, `typedtasks dead retry members`. Expected: the member goes back to run, the
        // group's own result stays failed, and the tool says why instead of leaving the count unexplained.
        string prefix;
        await using (var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]))
        {
            prefix = host.Prefix;
            var group = await TaskGroup.Of(Tasks.FailOn.WithClient(host.Client).Call(1, 2), Tasks.FailOn.WithClient(host.Client).Call(2, 2)).EnqueueAsync();
            await Assert.ThrowsAsync<TaskFailedException>(() => group.GetAsync(RedisHost.Wait));
            Assert.Equal(TaskState.Failed, await group.GetStateAsync());
        }

        var (listed, list) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", prefix, "dead", "list", "members", "--json"]);
        Assert.True(listed == 0, list);
        var names = JsonDocument.Parse(list).RootElement.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["TypedTasks.Group", "it.fail-on"], names);

        var (exit, text) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", prefix, "dead", "retry", "members", "--yes"]);
        Assert.True(exit == 0, text);
        Assert.Contains("Retried 1 task(s) from the failed tasks of 'members'. 1 stay failed: a group's own result (task TypedTasks.Group)", text, StringComparison.Ordinal);
        var (again, json) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", prefix, "dead", "retry", "members", "--yes", "--json"]);
        Assert.True(again == 0, json);
        var report = JsonDocument.Parse(json).RootElement;
        Assert.Equal((TypedTasks.Inspection.InspectorModel.Version, 0, 1), (report.GetProperty("model").GetInt32(), report.GetProperty("retried").GetInt32(), report.GetProperty("failed").GetInt32()));
    }

    [Fact]
    public async Task The_inspector_and_the_tool_show_a_workflows_stages_and_where_it_stopped()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var chain = await TaskGroup.Of(Enumerable.Range(1, 4).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, 2)))
            .Then(Tasks.Sum)
            .Then(Tasks.Describe.Bind("cm"))
            .EnqueueAsync();
        await Assert.ThrowsAsync<TaskFailedException>(() => chain.GetAsync(RedisHost.Wait));

        var inspector = TypedTasks.Inspection.TaskInspectorFactory.Create(host.Store);
        var workflow = await inspector.GetWorkflowAsync(chain.Id);
        Assert.NotNull(workflow);
        Assert.Equal(2, workflow.Stages.Count);
        Assert.Equal(("failed", 4), (workflow.Stages[0].State, workflow.Stages[0].Members));
        Assert.Equal(TaskState.Failed, workflow.Stages[0].Outcomes[1]);
        Assert.StartsWith($"stopped at {workflow.Stages[0].StepId}: member {workflow.Stages[0].MemberIds[1]} Failed", workflow.Where, StringComparison.Ordinal);
        Assert.Null(await inspector.GetWorkflowAsync(workflow.Stages[0].MemberIds[0]));

        // The whole workflow from any of its tasks: the handle (also without its queue), the step
        // before it, a member, the workflow id.
        var stepIds = workflow.Stages.Select(s => s.StepId).ToList();
        foreach (var any in new[] { chain.Id, chain.Id[..chain.Id.IndexOf('@', StringComparison.Ordinal)], stepIds[0], workflow.Stages[0].MemberIds[0], workflow.WorkflowId })
        {
            Assert.Equal(stepIds, (await inspector.FindWorkflowAsync(any))!.Stages.Select(s => s.StepId));
        }

        var (exit, text) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", host.Prefix, "workflow", chain.Id]);
        Assert.True(exit == 0, text);
        Assert.Contains($"workflow {workflow.WorkflowId}: stopped at", text, StringComparison.Ordinal);
        var (fromMember, memberText) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", host.Prefix, "workflow", workflow.Stages[0].MemberIds[1]]);
        Assert.True(fromMember == 0, memberText);
        Assert.Contains($"workflow {workflow.WorkflowId}: stopped at", memberText, StringComparison.Ordinal);
        Assert.Contains(chain.Id, memberText, StringComparison.Ordinal);

        // A chain's first call (w.0@queue) has no join of its own: the workflow is found from the step after it.
        var started = await Tasks.SquareOf.WithClient(host.Client).Call(3).Then(Tasks.Describe.Bind("m2")).EnqueueAsync();
        Assert.Equal("9 m2", await started.GetAsync(RedisHost.Wait));
        var first = started.Id[..started.Id.IndexOf('.', StringComparison.Ordinal)] + ".0@default";
        Assert.Null(await inspector.GetWorkflowAsync(first));
        var (fromFirst, firstText) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", host.Prefix, "workflow", first, "--json"]);
        Assert.True(fromFirst == 0, firstText);
        Assert.Contains($"\"step\":\"{started.Id}\"", firstText, StringComparison.Ordinal);

        var (missing, said) = await CliTests.Run(["--redis", Endpoint.Split(',')[0], "--prefix", host.Prefix, "workflow", "nope@default"]);
        Assert.Equal(1, missing);
        Assert.Contains("no workflow of 'nope@default' is stored", said, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_group_nested_beside_a_group_on_another_queue_counts_at_once_for_a_worker_of_that_queue_only()
    {
        // Input: a group of two groups, the first of a call on "members", the second empty. The outer
        // join lives on "members" (its first member's queue), the empty group's join on "default".
        // Only "members" is served: the group must still end, with [[1], []].
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = ["members"]);
        var groups = await TaskGroup.Of(
                TaskGroup.Of(Tasks.FailOn.WithClient(host.Client).Call(1, -1)),
                TaskGroup.Of(Array.Empty<TaskCall<long>>()))
            .EnqueueAsync();
        Assert.EndsWith("@members", groups.Id, StringComparison.Ordinal);
        Assert.Equal(new[] { new long[] { 1 }, [] }, await groups.GetAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_empty_group_nested_in_a_group_is_counted_when_the_workflow_is_sent_not_by_a_later_sweep()
    {
        // Input: the same workflow with no worker at all. The empty member's end is known at the send
        // (the in-memory store counts it there): the outer join must have one of its two members.
        await using var host = await RedisHost.StartAsync(Endpoint, withWorker: false);
        var groups = await TaskGroup.Of(
                TaskGroup.Of(Tasks.FailOn.WithClient(host.Client).Call(1, -1)),
                TaskGroup.Of(Array.Empty<TaskCall<long>>()))
            .EnqueueAsync();
        var at = groups.Id.LastIndexOf('@');
        var join = await host.Store.GetJoinAsync(groups.Id[(at + 1)..], groups.Id[..at]);
        Assert.Equal((2, 1), (join!.Members, join.Arrived));
    }

    [Fact]
    public async Task AllSettled_over_member_chains_reports_a_chain_whose_first_call_failed_as_Failed_not_Canceled()
    {
        // Input: two member chains (FailOn on "members", then SquareOf), the first chain's call
        // throws. Its outcome must read Failed, as a member that is a plain call does.
        await using var host = await RedisHost.StartAsync(Endpoint, worker: w => w.Queues = [.. Queues]);
        var settled = await TaskGroup.Of(
                Tasks.FailOn.WithClient(host.Client).Call(3, 3).Then(Tasks.SquareOf),
                Tasks.FailOn.WithClient(host.Client).Call(4, 3).Then(Tasks.SquareOf))
            .AllSettled()
            .Then(Tasks.Outcomes)
            .EnqueueAsync();
        Assert.Equal("Failed,16", await settled.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Canceling_a_workflows_handle_cancels_every_step_and_the_members_not_started_across_queues()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, withWorker: false);
        var chain = await TaskGroup.Of(Enumerable.Range(1, 3).Select(i => Tasks.FailOn.WithClient(host.Client).Call(i, -1)))
            .Then(Tasks.Sum)
            .Then(Tasks.Describe.Bind("cm"))
            .EnqueueAsync();

        Assert.True(await chain.CancelAsync());
        await Assert.ThrowsAsync<TaskRevokedException>(() => chain.GetAsync(RedisHost.Wait));
        Assert.Equal((0L, 3L), ((await host.Store.CountAsync("members")).Pending, (await host.Store.CountAsync("members")).Canceled));
        Assert.Equal(1, (await host.Store.CountAsync("default")).Canceled);
        Assert.Equal(1, (await host.Store.CountAsync("reports")).Canceled);
        Assert.False(await chain.CancelAsync());
    }
}

/// <summary>The workflow tests on a single Redis server.</summary>
public sealed class StandaloneRedisWorkflowTests(RedisFixture redis) : RedisWorkflowTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>The workflow tests on a 3-master Redis Cluster.</summary>
public sealed class ClusterRedisWorkflowTests(RedisClusterFixture cluster) : RedisWorkflowTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

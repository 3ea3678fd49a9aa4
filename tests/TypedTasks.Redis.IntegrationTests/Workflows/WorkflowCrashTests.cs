using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.TestWorker;
using TypedTasks.Workflows;

namespace TypedTasks.Redis.IntegrationTests.Workflows;

/// <summary>
/// A chord's callback runs exactly once whatever crashes: a worker process killed with SIGKILL
/// mid-chord, a process that stopped between a member's end and its delivery, a delivery made twice.
/// </summary>
public sealed class WorkflowCrashTests(RedisFixture redis, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_mid_chord_of_1000_leaves_the_callback_running_once_with_the_right_sum()
    {
        // Input: a chord of 1,000 SlowAdd members (queue "default") and a callback on "reports",
        // two worker processes; one is SIGKILLed while it holds members, then started again.
        // Expected: the sum of every member's result, the callback's first run, no outbox left.
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, withWorker: false);
        var first = await WorkerProcess.StartAsync(redis.Server.Endpoint, producer.Prefix, queues: "default,reports");
        await using var second = await WorkerProcess.StartAsync(redis.Server.Endpoint, producer.Prefix, queues: "default,reports");

        var members = Enumerable.Range(0, 1000).Select(i => Tasks.SlowAdd.WithClient(producer.Client).Call(i, i, 20));
        var chord = await TaskGroup.Of(members).Then(Tasks.SumElsewhere).EnqueueAsync();
        var wf = chord.Id[..chord.Id.IndexOf('.', StringComparison.Ordinal)];
        var join = chord.Id[..chord.Id.LastIndexOf('@')];

        await Poll.UntilAsync(async () => (await producer.Store.GetJoinAsync("reports", join))!.Arrived >= 100, "100 members ended before the kill");
        first.Kill();
        var arrivedAtKill = (await producer.Store.GetJoinAsync("reports", join))!.Arrived;
        var held = (await producer.Store.CountAsync("default")).Started;
        Assert.True(arrivedAtKill < 1000, "Every member had ended before the kill; the test proves nothing.");

        var clock = Stopwatch.StartNew();
        await using var restarted = await WorkerProcess.StartAsync(redis.Server.Endpoint, producer.Prefix, queues: "default,reports");
        Assert.Equal(999_000, await chord.GetAsync(Bound));

        var callback = (await chord.GetInfoAsync())!;
        Assert.Equal((TaskState.Succeeded, 1), (callback.State, callback.Attempt));
        var state = (await producer.Store.GetJoinAsync("reports", join))!;
        Assert.Equal(("done", 1000, wf), (state.State, state.Arrived, state.WorkflowId));
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        await Poll.UntilAsync(async () => await connection.GetDatabase().HashLengthAsync(producer.Store.OutboxKey("default")) == 0, "the outbox emptied");
        Assert.Equal(1, (await producer.Store.CountAsync("reports")).Succeeded);
        output.WriteLine($"SIGKILL mid-chord: {arrivedAtKill} of 1,000 members ended and {held} held at the kill; the callback ran once, {clock.Elapsed.TotalSeconds:0.0} s after the restart.");
    }

    [Fact]
    public async Task A_process_that_stopped_between_a_members_end_and_its_delivery_is_relayed_by_the_sweep_and_a_second_delivery_counts_nothing()
    {
        // Input: a chain step on "reports" after a member on "members" (another slot on a Cluster);
        // the member's end is stored, its delivery not made (the process "stops" there).
        // Expected: the join still waits, the outbox holds the entry; the sweep of another process
        // delivers it once; the same entry delivered again changes nothing.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);

        var chain = await Tasks.FailOn.WithClient(producer.Client).Call(6, -1).Then(Tasks.Describe.Bind("m")).EnqueueAsync();
        var join = chain.Id[..chain.Id.LastIndexOf('@')];
        await scene.EndOneAsync("members", 6L);

        Assert.Equal(("open", 0), ((await sweeper.GetJoinAsync("reports", join))!.State, (await sweeper.GetJoinAsync("reports", join))!.Arrived));
        var entries = await db.HashGetAllAsync(sweeper.OutboxKey("members"));
        var entry = Assert.Single(entries);
        Assert.Equal(TaskState.Pending, (await chain.GetInfoAsync())!.State);

        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("members")));
        var made = await sweeper.GetStoredAsync(chain.Id);
        Assert.Equal(TaskState.Pending, made!.Info.State);
        Assert.Equal(1, (await sweeper.CountAsync("reports")).Pending);

        // The same delivery again (a sweep that ran beside the worker's own drive): counted once.
        await db.HashSetAsync(sweeper.OutboxKey("members"), [entry]);
        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["members"]));
        var state = (await sweeper.GetJoinAsync("reports", join))!;
        Assert.Equal(("done", 1), (state.State, state.Arrived));
        Assert.Equal(1, (await sweeper.CountAsync("reports")).Pending);

        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["reports"]);
        Assert.Equal("6 m", await chain.GetAsync(Bound));
    }

    [Fact]
    public async Task A_fan_outs_relay_left_by_a_stopped_process_is_delivered_by_the_sweep_once()
    {
        // Input: a call on "default" then two steps at once, one on "default", one on "members"
        // (another slot on a Cluster). The call's end reaches the first step's join in its own script;
        // that join's relay to the second step's join is left in the outbox (the process "stops").
        // Expected: the first step is made, the second waits; the sweep makes it once; a second
        // delivery of the same entry changes nothing; the workflow ends with both results.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);

        var fan = await Tasks.SquareOf.WithClient(producer.Client).Call(2).ThenAll(Tasks.SquareOf, Tasks.FailOn.Bind(-1)).EnqueueAsync();
        var wf = fan.Id[..16];
        await scene.EndOneAsync("default", 4L);

        Assert.Equal("done", (await sweeper.GetJoinAsync("default", wf + ".1"))!.State);
        Assert.Equal(("open", 0), ((await sweeper.GetJoinAsync("members", wf + ".2"))!.State, (await sweeper.GetJoinAsync("members", wf + ".2"))!.Arrived));
        var entry = Assert.Single(await db.HashGetAllAsync(sweeper.OutboxKey("default")));

        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["default"]));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("default")));
        Assert.Equal(1, (await sweeper.CountAsync("members")).Pending);
        await db.HashSetAsync(sweeper.OutboxKey("default"), [entry]);
        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["default"]));
        Assert.Equal(("done", 1), ((await sweeper.GetJoinAsync("members", wf + ".2"))!.State, (await sweeper.GetJoinAsync("members", wf + ".2"))!.Arrived));
        Assert.Equal(1, (await sweeper.CountAsync("members")).Pending);

        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["default", "members"]);
        Assert.Equal(new[] { 16L, 4L }, await fan.GetAsync(Bound));
    }

    [Fact]
    public async Task A_delivery_whose_last_write_fails_leaves_the_entry_in_the_outbox_and_a_later_sweep_delivers_it()
    {
        // Input: a member on "members" ended and its delivery left in the outbox; the successor's
        // queue "reports" has its pending list replaced by a string, so the delivery's write of the
        // successor fails. Expected: the delivery is refused naming the key, the outbox keeps the
        // entry and the join still waits; once the key is mended, a sweep delivers it and the chain ends.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);

        var chain = await Tasks.FailOn.WithClient(producer.Client).Call(6, -1).Then(Tasks.Describe.Bind("m")).EnqueueAsync();
        var join = chain.Id[..chain.Id.LastIndexOf('@')];
        await scene.EndOneAsync("members", 6L);
        var pending = (RedisKey)$"{prefix}:{{reports}}:pending:0";
        await db.StringSetAsync(pending, "not a list");

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Contains("pending:0", refused.Message, StringComparison.Ordinal);
        Assert.Single(await db.HashGetAllAsync(sweeper.OutboxKey("members")));
        var waiting = (await sweeper.GetJoinAsync("reports", join))!;
        Assert.Equal(("open", 0), (waiting.State, waiting.Arrived));

        await db.KeyDeleteAsync(pending);
        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("members")));
        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["reports"]);
        Assert.Equal("6 m", await chain.GetAsync(Bound));
    }

    [Fact]
    public async Task A_chords_last_delivery_whose_successor_cannot_be_made_is_refused_and_left_in_the_outbox_and_the_others_count()
    {
        // Input: a chord of three members on "members" and its callback on "reports"; the three
        // ends are stored and their deliveries left in the outbox; then the callback's chosen id
        // key on "reports" (id:<join key>) holds a hash. Expected: the sweep counts the two
        // deliveries that cannot end the join and refuses the last, naming the key; the join
        // waits with two of three, the outbox keeps the entries; once the key is mended, a sweep
        // counts the last once (the first two again count nothing) and the callback sums all three.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);

        var chord = await TaskGroup.Of(new[] { 1L, 2L, 3L }.Select(v => Tasks.FailOn.WithClient(producer.Client).Call(v, -1))).Then(Tasks.SumElsewhere).EnqueueAsync();
        var join = chord.Id[..chord.Id.LastIndexOf('@')];
        for (var i = 0; i < 3; i++)
        {
            await scene.EndOneAsync("members", i + 1L);
        }

        var idKey = (RedisKey)$"{prefix}:{{reports}}:id:{join}";
        await db.HashSetAsync(idKey, "not", "a string");
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Contains($"id:{join}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("holds a hash", refused.Message, StringComparison.Ordinal);
        var waiting = (await sweeper.GetJoinAsync("reports", join))!;
        Assert.Equal(("open", 2), (waiting.State, waiting.Arrived));
        Assert.Equal(3, await db.HashLengthAsync(sweeper.OutboxKey("members")));
        Assert.Equal(0, (await sweeper.CountAsync("reports")).Pending);

        await db.KeyDeleteAsync(idKey);
        Assert.Equal(3, await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("members")));
        var done = (await sweeper.GetJoinAsync("reports", join))!;
        Assert.Equal(("done", 3), (done.State, done.Arrived));
        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["reports"]);
        Assert.Equal(6L, await chord.GetAsync(Bound));
    }

    [Fact]
    public async Task A_chords_last_member_on_the_joins_queue_whose_successor_cannot_be_made_ends_and_leaves_its_delivery_in_the_outbox()
    {
        // Input: a chord of three members and its callback, all on "default" (each end is delivered
        // in the settle's own script), the queue's sequence set so that the members are the last
        // three of bucket 0 and the callback would be the first of bucket 1; before the last member
        // ends, that bucket (t:1) holds a string. Expected: the first two count at once; the last
        // ends Succeeded, its delivery uncounted and kept in the outbox; the sweep refuses it naming
        // the bucket; once the key is gone, the sweep delivers it once and the callback sums all three.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);
        await db.HashSetAsync($"{prefix}:{{default}}:seq", "next", 124);

        var chord = await TaskGroup.Of(new[] { 1L, 2L, 3L }.Select(v => Tasks.SquareOf.WithClient(producer.Client).Call(v))).Then(Tasks.Sum).EnqueueAsync();
        var join = chord.Id[..chord.Id.LastIndexOf('@')];
        Assert.Equal(127, (long)await db.HashGetAsync($"{prefix}:{{default}}:seq", "next"));
        await scene.EndOneAsync("default", 1L);
        await scene.EndOneAsync("default", 4L);
        Assert.Equal(("open", 2), ((await sweeper.GetJoinAsync("default", join))!.State, (await sweeper.GetJoinAsync("default", join))!.Arrived));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("default")));

        var bucket = (RedisKey)$"{prefix}:{{default}}:t:1";
        await db.StringSetAsync(bucket, "not a hash");
        await scene.EndOneAsync("default", 9L);
        var waiting = (await sweeper.GetJoinAsync("default", join))!;
        Assert.Equal(("open", 2), (waiting.State, waiting.Arrived));
        Assert.Equal(1, await db.HashLengthAsync(sweeper.OutboxKey("default")));
        Assert.Equal(3, (await sweeper.CountAsync("default")).Succeeded);

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await sweeper.DeliverLeftoversAsync(["default"]));
        Assert.Contains(":t:1 holds a string", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, await db.HashLengthAsync(sweeper.OutboxKey("default")));
        Assert.Equal(("open", 2), ((await sweeper.GetJoinAsync("default", join))!.State, (await sweeper.GetJoinAsync("default", join))!.Arrived));

        await db.KeyDeleteAsync(bucket);
        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["default"]));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("default")));
        Assert.Equal(("done", 3), ((await sweeper.GetJoinAsync("default", join))!.State, (await sweeper.GetJoinAsync("default", join))!.Arrived));
        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["default"]);
        Assert.Equal(14L, await chord.GetAsync(Bound));
    }

    [Fact]
    public async Task A_fan_out_on_one_queue_whose_next_bucket_holds_another_type_makes_the_first_step_and_leaves_the_relay_in_the_outbox()
    {
        // Input: a call on "default" then two steps at once, both on "default" (the call's end
        // reaches the first step's join in the settle's own script, and that join relays it to the
        // second's); the queue's sequence set so that the call is 126 and the steps 127 and 128,
        // the first of bucket 1, whose key holds a string. Expected: the settle succeeds; the first
        // join counts the call and makes its step (127); the relay to the second, refused uncounted,
        // stays in the outbox (the second join waits); the sweep refuses it naming t:1; once the
        // key is gone, a sweep makes the second step once and the fan-out ends with both results.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);
        await scene.SetNextAsync("default", 125);

        var fan = await Tasks.SquareOf.WithClient(producer.Client).Call(2).ThenAll(Tasks.SquareOf, Tasks.SquareOf).EnqueueAsync();
        var wf = fan.Id[..16];
        var bucket = (RedisKey)$"{prefix}:{{default}}:t:1";
        await db.StringSetAsync(bucket, "not a hash");
        await scene.EndOneAsync("default", 4L);

        Assert.Equal(("done", 1), await scene.JoinAsync("default", wf + ".1"));
        Assert.Equal(("open", 0), await scene.JoinAsync("default", wf + ".2"));
        Assert.Equal((1, 1), ((await sweeper.CountAsync("default")).Pending, (await sweeper.CountAsync("default")).Succeeded));
        Assert.StartsWith("r:", (string?)Assert.Single(await db.HashKeysAsync(sweeper.OutboxKey("default"))), StringComparison.Ordinal);
        Assert.Contains(":t:1 holds a string", await scene.RefusedSweepAsync("default"), StringComparison.Ordinal);
        Assert.Equal(("open", 0), await scene.JoinAsync("default", wf + ".2"));

        await db.KeyDeleteAsync(bucket);
        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["default"]));
        Assert.Equal(0, await db.HashLengthAsync(sweeper.OutboxKey("default")));
        Assert.Equal(2, (await sweeper.CountAsync("default")).Pending);
        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["default"]);
        Assert.Equal(new[] { 16L, 16L }, await fan.GetAsync(Bound));
    }

    [Fact]
    public async Task Steps_made_at_sequences_past_ten_to_the_fourteen_each_get_their_own_record()
    {
        // Input: the queue "default" at sequence 100,000,000,000,000 (15 digits); two chains, each
        // a call then a step, on "default"; both calls end (their steps are made at sequences
        // 100,000,000,000,003 and 100,000,000,000,004). Expected: two Pending steps, each with its
        // own record and envelope, named by their sequences written in full; each chain's result
        // is its own. (A sequence made text as Lua's default number format, 14 digits, gives
        // "1e+14" to both, and the second step's record replaces the first's.)
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);
        await scene.SetNextAsync("default", 100_000_000_000_000);

        var first = await Tasks.SquareOf.WithClient(producer.Client).Call(2).Then(Tasks.SquareOf).EnqueueAsync();
        var second = await Tasks.SquareOf.WithClient(producer.Client).Call(3).Then(Tasks.SquareOf).EnqueueAsync();
        await scene.EndOneAsync("default", 4L);
        await scene.EndOneAsync("default", 9L);

        var firstKey = first.Id[..first.Id.LastIndexOf('@')];
        var secondKey = second.Id[..second.Id.LastIndexOf('@')];
        Assert.Equal("100000000000003", (string?)await db.StringGetAsync($"{prefix}:{{default}}:id:{firstKey}"));
        Assert.Equal("100000000000004", (string?)await db.StringGetAsync($"{prefix}:{{default}}:id:{secondKey}"));
        Assert.Equal(2, (await sweeper.CountAsync("default")).Pending);
        var (a, b) = ((await sweeper.GetStoredAsync(first.Id))!, (await sweeper.GetStoredAsync(second.Id))!);
        Assert.NotEqual(a.Envelope.ToArray(), b.Envelope.ToArray());

        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["default"]);
        Assert.Equal(16L, await first.GetAsync(Bound));
        Assert.Equal(81L, await second.GetAsync(Bound));
    }

    [Fact]
    public async Task A_workflow_with_two_empty_groups_whose_second_result_would_open_a_bucket_of_another_type_is_refused_before_its_empty_groups_count()
    {
        // Input: a group of a group of one call and two empty groups, all on "default" (the empty
        // groups' results are made when the workflow is sent, in one script); the queue's sequence
        // set so that those results would be 127 and 128, the first of bucket 1, whose key holds a
        // string. Expected: the send fails naming t:1, and that script made nothing (no result, the
        // sequence where it was); once the key is gone, the workflow sent again ends with
        // [[4], [], []].
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);
        await scene.SetNextAsync("default", 126);
        var bucket = (RedisKey)$"{prefix}:{{default}}:t:1";
        await db.StringSetAsync(bucket, "not a hash");
        TaskGroup<long[]> Groups() => TaskGroup.Of(
            TaskGroup.Of(Tasks.SquareOf.WithClient(producer.Client).Call(2)),
            TaskGroup.Of(Array.Empty<TaskCall<long>>()),
            TaskGroup.Of(Array.Empty<TaskCall<long>>()));

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => Groups().EnqueueAsync());
        Assert.Contains(":t:1 holds a string", refused.Message, StringComparison.Ordinal);
        Assert.Equal(126, (long)await db.HashGetAsync($"{prefix}:{{default}}:seq", "next"));
        Assert.Equal(0, (await sweeper.CountAsync("default")).Succeeded);

        await db.KeyDeleteAsync(bucket);
        var groups = await Groups().EnqueueAsync();
        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["default"]);
        Assert.Equal(new[] { new long[] { 4 }, [], [] }, await groups.GetAsync(Bound));
    }

    [Fact]
    public async Task Three_members_of_a_settled_chord_deleted_in_one_call_count_two_and_leave_the_last_in_the_outbox_when_the_callback_cannot_be_made()
    {
        // Input: an AllSettled chord of three members on "default" and its callback there, the
        // members the last three sequences of bucket 0 (the callback would be the first of bucket 1,
        // whose key holds a string); the three members deleted, Pending, in one call (each counts as
        // canceled: one script delivers all three to the one join). Expected: three deleted; the
        // first two count (the join's count kept from one delivery to the next in that call), the
        // last is refused uncounted and kept in the outbox; once the key is gone, a sweep delivers
        // it and the callback gets three Canceled outcomes.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);
        await scene.SetNextAsync("default", 124);
        var members = new[] { 1L, 2L, 3L }.Select(v => Tasks.SquareOf.WithClient(producer.Client).Call(v)).ToList();
        var chord = await TaskGroup.Of(members).AllSettled().Then(Tasks.Outcomes).EnqueueAsync();
        var join = chord.Id[..chord.Id.LastIndexOf('@')];
        var ids = (await sweeper.ListAsync("default", TaskState.Pending, 0, 10)).Select(t => t.Info.Id).ToArray();
        Assert.Equal(3, ids.Length);
        var bucket = (RedisKey)$"{prefix}:{{default}}:t:1";
        await db.StringSetAsync(bucket, "not a hash");

        Assert.Equal(3, await scene.DeleteAsync(ids));
        Assert.Equal(("open", 2), await scene.JoinAsync("default", join));
        Assert.Equal(1, await db.HashLengthAsync(sweeper.OutboxKey("default")));
        Assert.Contains(":t:1 holds a string", await scene.RefusedSweepAsync("default"), StringComparison.Ordinal);

        await db.KeyDeleteAsync(bucket);
        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["default"]));
        Assert.Equal(("done", 3), await scene.JoinAsync("default", join));
        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, worker: w => w.Queues = ["default"]);
        Assert.Equal("Canceled,Canceled,Canceled", await chord.GetAsync(Bound));
    }

    [Fact]
    public async Task Canceling_or_deleting_a_member_whose_queues_outbox_holds_another_type_fails_and_changes_nothing()
    {
        // Input: a chain whose call waits, Pending, on "members" and whose step is on "reports"
        // (the call's end is delivered through the outbox of "members"); that outbox holds a string.
        // Expected: a cancel of the call, and a delete of it, each fail naming the outbox, and the
        // call is still Pending, in its pending list, its join waiting; once the key is gone, a
        // cancel ends it and the step is Canceled.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer, prefix) = (scene.Db, scene.Sweeper, scene.Producer, scene.Producer.Prefix);
        var chain = await Tasks.FailOn.WithClient(producer.Client).Call(6, -1).Then(Tasks.Describe.Bind("m")).EnqueueAsync();
        var join = chain.Id[..chain.Id.LastIndexOf('@')];
        var member = Assert.Single(await sweeper.ListAsync("members", TaskState.Pending, 0, 10)).Info.Id;
        var outbox = sweeper.OutboxKey("members");
        await db.StringSetAsync(outbox, "not a hash");

        var canceled = await Assert.ThrowsAnyAsync<Exception>(async () => await sweeper.CancelAsync(member));
        Assert.Contains(":outbox holds a string", canceled.Message, StringComparison.Ordinal);
        var deleted = await Assert.ThrowsAnyAsync<Exception>(async () => await scene.DeleteAsync([member]));
        Assert.Contains(":outbox holds a string", deleted.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Pending, (await sweeper.GetAsync(member))!.State);
        Assert.Equal((1, 0, 0), ((await sweeper.CountAsync("members")).Pending, (await sweeper.CountAsync("members")).Canceled, await db.ListLengthAsync($"{prefix}:{{members}}:canceled")));
        Assert.Equal(("open", 0), await scene.JoinAsync("reports", join));

        await db.KeyDeleteAsync(outbox);
        Assert.True(await sweeper.CancelAsync(member));
        await Poll.UntilAsync(async () => (await chain.GetInfoAsync())?.State == TaskState.Canceled, "the step is Canceled", Bound);
    }

    [Fact]
    public async Task A_member_whose_lease_ran_out_and_ran_again_elsewhere_counts_once()
    {
        // Input: a member fetched by a worker that stalls past its lease; recovered and run by another;
        // then the stalled worker's late completion arrives. Expected: refused, counted once.
        var prefix = RedisHost.NewPrefix();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        var options = new RedisTransportOptions { KeyPrefix = prefix, LeaseDuration = TimeSpan.FromMilliseconds(300), WorkerTimeout = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(100) };
        await using var store = new RedisTaskStore(connection, options);
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, withWorker: false);

        var chord = await TaskGroup.Of(Tasks.FailOn.WithClient(producer.Client).Call(1, -1), Tasks.FailOn.WithClient(producer.Client).Call(2, -1))
            .Then(Tasks.Sum).EnqueueAsync();
        var join = chord.Id[..chord.Id.LastIndexOf('@')];
        var stalled = (await store.FetchAsync(["members"], 2, default)).OrderBy(l => l.Id, StringComparer.Ordinal).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.Equal(2, await store.RecoverAsync(["members"]));
        var rerun = (await store.FetchAsync(["members"], 2, default)).OrderBy(l => l.Id, StringComparer.Ordinal).ToList();
        Assert.True(await store.CompleteAsync(rerun[0], TaskCompletion.Succeeded(MessagePack.MessagePackSerializer.Serialize(1L))));
        Assert.False(await store.CompleteAsync(stalled[0], TaskCompletion.Succeeded(MessagePack.MessagePackSerializer.Serialize(100L))));
        Assert.Equal(1, (await store.GetJoinAsync("default", join))!.Arrived);
        Assert.True(await store.CompleteAsync(rerun[1], TaskCompletion.Succeeded(MessagePack.MessagePackSerializer.Serialize(2L))));

        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix);
        Assert.Equal(3, await chord.GetAsync(Bound));
    }

    [Fact]
    public async Task A_member_without_a_result_whose_delivery_was_left_is_relayed_by_the_sweep_to_a_step_that_takes_no_result()
    {
        // Input: Send on "members" (no result) then After on "reports" (takes none); the member's
        // end is stored with an empty result, its delivery not made. Expected: the sweep delivers
        // it once, After is made as it was written and runs; a second sweep finds nothing.
        await using var scene = await StoppedProcess.StartAsync(redis.Server.Endpoint);
        var (db, sweeper, producer) = (scene.Db, scene.Sweeper, scene.Producer);
        var key = Guid.NewGuid().ToString("N");
        var chain = await Tasks.Send.WithClient(producer.Client).Call(key, 1).Then(Tasks.After.Call(key, "swept")).EnqueueAsync();
        var join = chain.Id[..chain.Id.LastIndexOf('@')];
        await scene.EndOneAsync("members", ReadOnlyMemory<byte>.Empty);
        Assert.Equal(1, await db.HashLengthAsync(sweeper.OutboxKey("members")));

        Assert.Equal(1, await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Equal(("done", 1), ((await sweeper.GetJoinAsync("reports", join))!.State, (await sweeper.GetJoinAsync("reports", join))!.Arrived));
        Assert.Equal(0, await sweeper.DeliverLeftoversAsync(["members"]));
        Assert.Equal(TaskState.Pending, (await sweeper.GetStoredAsync(chain.Id))!.Info.State);

        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: producer.Prefix, worker: w => w.Queues = ["reports"]);
        Assert.Equal("swept: 0", await chain.GetAsync(Bound));
    }

    /// <summary>
    /// A producer; a store whose follow-ups are never done, as a process that stops right after its
    /// scripts; and another process's store, which sweeps what it left.
    /// </summary>
    private sealed class StoppedProcess : IAsyncDisposable
    {
        private ConnectionMultiplexer _connection = null!;
        private RedisTaskStore _stopped = null!;

        public IDatabase Db { get; private set; } = null!;

        public RedisTaskStore Sweeper { get; private set; } = null!;

        public RedisHost Producer { get; private set; } = null!;

        public static async Task<StoppedProcess> StartAsync(string endpoint)
        {
            var prefix = RedisHost.NewPrefix();
            var scene = new StoppedProcess { _connection = await ConnectionMultiplexer.ConnectAsync(endpoint) };
            scene.Db = scene._connection.GetDatabase();
            scene._stopped = new RedisTaskStore(scene._connection, new RedisTransportOptions { KeyPrefix = prefix }) { SkipFollowUps = true };
            scene.Sweeper = new RedisTaskStore(scene._connection, new RedisTransportOptions { KeyPrefix = prefix });
            scene.Producer = await RedisHost.StartAsync(endpoint, prefix: prefix, withWorker: false);
            return scene;
        }

        /// <summary>The stopping process deletes <paramref name="ids"/> (its follow-ups left to the sweep).</summary>
        public async Task<int> DeleteAsync(string[] ids) => await _stopped.DeleteAsync(ids);

        /// <summary>Sets where <paramref name="queue"/>'s sequence stands: its next task is <paramref name="next"/> + 1.</summary>
        public Task SetNextAsync(string queue, long next) => Db.HashSetAsync($"{Producer.Prefix}:{{{queue}}}:seq", "next", next);

        /// <summary>The state of join <paramref name="key"/> of <paramref name="queue"/> and how many of its members arrived.</summary>
        public async Task<(string State, int Arrived)> JoinAsync(string queue, string key)
        {
            var join = (await Sweeper.GetJoinAsync(queue, key))!;
            return (join.State, join.Arrived);
        }

        /// <summary>A sweep of <paramref name="queue"/>'s outbox, which must be refused: the error's message.</summary>
        public async Task<string> RefusedSweepAsync(string queue)
            => (await Assert.ThrowsAnyAsync<Exception>(async () => await Sweeper.DeliverLeftoversAsync([queue]))).Message;

        /// <summary>The stopping process takes the one task of <paramref name="queue"/> and ends it with <paramref name="result"/>.</summary>
        public Task EndOneAsync(string queue, long result) => EndOneAsync(queue, MessagePack.MessagePackSerializer.Serialize(result));

        /// <summary>As <see cref="EndOneAsync(string, long)"/>, with the result as stored (empty for a task without one).</summary>
        public async Task EndOneAsync(string queue, ReadOnlyMemory<byte> result)
        {
            var lease = Assert.Single(await _stopped.FetchAsync([queue], 1, default));
            Assert.True(await _stopped.CompleteAsync(lease, TaskCompletion.Succeeded(result)));
        }

        public async ValueTask DisposeAsync()
        {
            await Producer.DisposeAsync();
            await Sweeper.DisposeAsync();
            await _stopped.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}

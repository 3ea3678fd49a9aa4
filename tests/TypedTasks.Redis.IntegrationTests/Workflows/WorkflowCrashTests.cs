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
        var prefix = RedisHost.NewPrefix();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        var db = connection.GetDatabase();
        await using var crashed = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = prefix }) { SkipFollowUps = true };
        await using var sweeper = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = prefix });
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, withWorker: false);

        var chain = await Tasks.FailOn.WithClient(producer.Client).Call(6, -1).Then(Tasks.Describe.Bind("m")).EnqueueAsync();
        var join = chain.Id[..chain.Id.LastIndexOf('@')];
        var lease = Assert.Single(await crashed.FetchAsync(["members"], 1, default));
        Assert.True(await crashed.CompleteAsync(lease, TaskCompletion.Succeeded(MessagePack.MessagePackSerializer.Serialize(6L))));

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
    public async Task A_delivery_whose_last_write_fails_leaves_the_entry_in_the_outbox_and_a_later_sweep_delivers_it()
    {
        // Input: a member on "members" ended and its delivery left in the outbox; the successor's
        // queue "reports" has its pending list replaced by a string, so the delivery's write of the
        // successor fails. Expected: the delivery is refused naming the key, the outbox keeps the
        // entry and the join still waits; once the key is mended, a sweep delivers it and the chain ends.
        var prefix = RedisHost.NewPrefix();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        var db = connection.GetDatabase();
        await using var crashed = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = prefix }) { SkipFollowUps = true };
        await using var sweeper = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = prefix });
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, prefix: prefix, withWorker: false);

        var chain = await Tasks.FailOn.WithClient(producer.Client).Call(6, -1).Then(Tasks.Describe.Bind("m")).EnqueueAsync();
        var join = chain.Id[..chain.Id.LastIndexOf('@')];
        var lease = Assert.Single(await crashed.FetchAsync(["members"], 1, default));
        Assert.True(await crashed.CompleteAsync(lease, TaskCompletion.Succeeded(MessagePack.MessagePackSerializer.Serialize(6L))));
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
}

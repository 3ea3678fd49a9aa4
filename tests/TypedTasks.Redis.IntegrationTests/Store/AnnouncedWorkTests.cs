using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Transport;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// Work that another store made due or left behind reaches a worker's store that looked at its
/// queues already and whose safety look is minutes away: through the announcements on the wake
/// channel, and through the lease registry.
/// </summary>
public sealed class AnnouncedWorkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    /// <summary>A worker's store whose own looks are all minutes apart: only what it hears makes it look.</summary>
    private static RedisTaskStore Watcher(IConnectionMultiplexer connection, string prefix)
        => new(connection, new RedisTransportOptions
        {
            KeyPrefix = prefix,
            SafetyLookInterval = TimeSpan.FromMinutes(10),
            IdleFetchInterval = TimeSpan.FromMinutes(10),
        });

    [Fact]
    public async Task A_safety_look_interval_that_is_not_positive_is_refused_naming_the_setting()
    {
        // Input: SafetyLookInterval zero, then negative. Error: InvalidOperationException that
        // names the setting and its rule; no store is made.
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        foreach (var bad in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(-1) })
        {
            var error = Assert.Throws<InvalidOperationException>(() => new RedisTaskStore(connection, new RedisTransportOptions { SafetyLookInterval = bad }));
            Assert.Contains("TypedTasks:RedisTransport:SafetyLookInterval must be positive", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_retry_settled_by_a_store_that_stopped_is_promoted_by_another_when_due()
    {
        // Input: a task on "r" run by store A, which settles it as a retry due in 500 ms and is
        // disposed (its process stopped); store B has looked at "r" before and found nothing due.
        // Expected: B promotes the retry once due, without its safety look (10 minutes away).
        await using var server = await RedisServer.StartAsync();
        await using var watching = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        await using var watcher = Watcher(watching, "rt");
        var id = "";
        await using (var settling = await ConnectionMultiplexer.ConnectAsync(server.Endpoint))
        {
            await using var settler = new RedisTaskStore(settling, new RedisTransportOptions { KeyPrefix = "rt" });
            id = await settler.EnqueueAsync("r", New(Small()));
            Assert.Null(await watcher.PromoteDueAsync(["r"]));
            var lease = Assert.Single(await settler.FetchAsync(["r"], 1, CancellationToken.None));
            Assert.True(await settler.CompleteAsync(lease, TaskCompletion.Retry(new TaskError("E", "again", null), DateTimeOffset.UtcNow.AddMilliseconds(500))));
        }

        Assert.Equal(TaskState.Retrying, (await watcher.GetAsync(id))!.State);
        await Poll.UntilAsync(async () => { await watcher.PromoteDueAsync(["r"]); return (await watcher.CountAsync("r")).Pending == 1; }, "the retry is promoted by the other store", Bound);
        Assert.Equal(id, Assert.Single(await watcher.FetchAsync(["r"], 1, CancellationToken.None)).Id);
    }

    [Fact]
    public async Task A_task_held_by_a_rate_limit_goes_when_its_window_frees_though_the_store_that_held_it_stopped()
    {
        // Input: two tasks under a rate limit of one start per 800 ms on "g"; store A fetches: it
        // starts the first and holds the second back, then is disposed. Store B has looked at "g"
        // before. Expected: B lets the held task go when the window frees (the limit's timer was
        // announced), without its safety look; it then fetches it.
        await using var server = await RedisServer.StartAsync();
        await using var watching = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        await using var watcher = Watcher(watching, "rl");
        var limited = New(Small()) with { Limits = [new TaskLimit("Mail", 1, TimeSpan.FromMilliseconds(800))] };
        string second;
        await using (var holding = await ConnectionMultiplexer.ConnectAsync(server.Endpoint))
        {
            await using var holder = new RedisTaskStore(holding, new RedisTransportOptions { KeyPrefix = "rl" });
            var first = await holder.EnqueueAsync("g", limited);
            second = await holder.EnqueueAsync("g", limited);
            Assert.Null(await watcher.PromoteDueAsync(["g"]));
            Assert.Equal(first, Assert.Single(await holder.FetchAsync(["g"], 10, CancellationToken.None)).Id);
            Assert.Equal(1, (await holder.CountAsync("g")).Held);
        }

        await Poll.UntilAsync(async () => { await watcher.PromoteDueAsync(["g"]); return (await watcher.CountAsync("g")).Held == 0; }, "the held task is let go by the other store", Bound);
        Assert.Equal(second, Assert.Single(await watcher.FetchAsync(["g"], 10, CancellationToken.None)).Id);
    }

    [Fact]
    public async Task A_queue_with_more_expired_leases_than_one_recovery_takes_is_looked_at_again_after_the_holder_is_pruned()
    {
        // Input: store A (lease 500 ms) fetches 1,100 tasks of "m" and stops; store B (heartbeat
        // 100 ms, so A's entry is pruned 600 ms after it expired; safety look 10 minutes away)
        // recovers once the entry can be pruned. Expected: that round brings back 1,000 (the most
        // per queue and call) and prunes the entry; the next round, with no stale entry left,
        // still looks at "m" and brings back the other 100.
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var db = connection.GetDatabase();
        await using var holder = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "mx", LeaseDuration = TimeSpan.FromMilliseconds(500), HeartbeatInterval = TimeSpan.FromMilliseconds(100), WorkerTimeout = TimeSpan.FromSeconds(1) });
        await using var watcher = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "mx", SafetyLookInterval = TimeSpan.FromMinutes(10), HeartbeatInterval = TimeSpan.FromMilliseconds(100), WorkerTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal(0, await watcher.RecoverAsync(["m"]));
        await holder.EnqueueManyAsync("m", [.. Enumerable.Range(0, 1100).Select(i => New(Small(i)))]);
        var leased = 0;
        while (leased < 1100)
        {
            var got = await holder.FetchAsync(["m"], 1100 - leased, CancellationToken.None);
            Assert.NotEmpty(got);
            leased += got.Count;
        }

        // Every lease expired (the last fetch's 500 ms after it) and the entry prunable.
        var allExpired = DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(600);
        var entry = Assert.Single(await db.SortedSetRangeByRankWithScoresAsync("mx:workers:leases"));
        var prunable = DateTimeOffset.FromUnixTimeMilliseconds((long)entry.Score) + TimeSpan.FromMilliseconds(700);
        var until = allExpired > prunable ? allExpired : prunable;
        await Task.Delay(until - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero);

        Assert.Equal(1000, await watcher.RecoverAsync(["m"]));
        Assert.Equal(0, await db.SortedSetLengthAsync("mx:workers:leases"));
        Assert.Equal(100, await watcher.RecoverAsync(["m"]));
        Assert.Equal(1100, (await watcher.CountAsync("m")).Pending);
    }

    [Fact]
    public async Task A_lease_registry_of_another_type_neither_fails_the_fetch_nor_stops_recovery()
    {
        // Input: P:workers:leases holds a string (written by hand). A store fetches a task with a
        // short lease and stops. Expected: the fetch hands out its lease (the registry write is not
        // worth the lease), and another store, whose safety look is minutes away, recovers the
        // expired lease: an unreadable registry means every queue is looked at.
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var db = connection.GetDatabase();
        await db.StringSetAsync("rb:workers:leases", "not a sorted set");
        await using var watcher = Watcher(connection, "rb");
        Assert.Equal(0, await watcher.RecoverAsync(["q"]));
        await using (var holder = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "rb", LeaseDuration = TimeSpan.FromMilliseconds(300), HeartbeatInterval = TimeSpan.FromMilliseconds(100), WorkerTimeout = TimeSpan.FromSeconds(1) }))
        {
            await holder.EnqueueAsync("q", New(Small(1)));
            Assert.Single(await holder.FetchAsync(["q"], 1, CancellationToken.None));
        }

        await Poll.UntilAsync(async () => await watcher.RecoverAsync(["q"]) == 1, "the expired lease is recovered", Bound);
        Assert.Equal("not a sorted set", (string?)await db.StringGetAsync("rb:workers:leases"));
    }

    [Fact]
    public async Task A_worker_that_leaves_with_every_lease_settled_leaves_the_lease_registry_and_one_with_a_lease_left_stays()
    {
        // Input: store A fetches a task, beats, settles it and leaves; store B fetches a task,
        // beats and leaves without settling it. Expected: the registry keeps B's entry only (its
        // lease must still be found once it expires), so that no worker looks for A's.
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var db = connection.GetDatabase();
        RedisTransportOptions Short() => new() { KeyPrefix = "lv", HeartbeatInterval = TimeSpan.FromMilliseconds(200), WorkerTimeout = TimeSpan.FromSeconds(1) };
        await using var settled = new RedisTaskStore(connection, Short());
        await using var unsettled = new RedisTaskStore(connection, Short());
        await settled.EnqueueAsync("v", New(Small(1)));
        await settled.EnqueueAsync("v", New(Small(2)));
        var done = Assert.Single(await settled.FetchAsync(["v"], 1, CancellationToken.None));
        var left = Assert.Single(await unsettled.FetchAsync(["v"], 1, CancellationToken.None));
        await settled.HeartbeatAsync(new WorkerDescription(["v"], 1, new WorkerStatus()), [done]);
        await unsettled.HeartbeatAsync(new WorkerDescription(["v"], 1, new WorkerStatus()), [left]);
        Assert.Equal(2, await db.SortedSetLengthAsync("lv:workers:leases"));

        Assert.True(await settled.CompleteAsync(done, TaskCompletion.Succeeded(new byte[] { 1 })));
        await settled.LeaveAsync();
        await unsettled.LeaveAsync();
        var entry = Assert.Single(await db.SortedSetRangeByRankWithScoresAsync("lv:workers:leases"));
        Assert.InRange(entry.Score, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), double.MaxValue);
        await Poll.UntilAsync(async () => await unsettled.RecoverAsync(["v"]) == 1, "the lease left is recovered once expired", Bound);
    }

    [Fact]
    public async Task A_lease_that_Redis_restored_after_its_settle_was_lost_is_recovered_a_lease_time_after_the_reconnect()
    {
        // Input: a store (lease 1 s, heartbeat 200 ms, safety look 10 minutes) fetches a task and
        // settles it; then the queue's keys are put back as they were before the settle (what
        // Redis restarted from its append-only file does when the settle was among the writes it
        // had not yet synced) and the store's connection is killed. The store goes on beating and
        // holds no lease, so the registry never says a holder stopped. Expected: the task, Started
        // again with a lease nobody renews, is back Pending a lease time after the reconnect,
        // not at the safety look ten minutes later.
        await using var server = await RedisServer.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions
        {
            KeyPrefix = "rs",
            SafetyLookInterval = TimeSpan.FromMinutes(10),
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            WorkerTimeout = TimeSpan.FromSeconds(1),
        });
        string[] queues = ["rs"];
        var db = admin.GetDatabase();
        var id = await store.EnqueueAsync("rs", New(Small()));
        Assert.Equal(0, await store.RecoverAsync(queues));
        var lease = Assert.Single(await store.FetchAsync(queues, 1, CancellationToken.None));
        var keys = admin.GetServer(server.Endpoint).Keys(pattern: "rs:{rs}:*").ToArray();
        var dumps = await Task.WhenAll(keys.Select(k => db.KeyDumpAsync(k)));
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        foreach (var key in admin.GetServer(server.Endpoint).Keys(pattern: "rs:{rs}:*").ToArray())
        {
            await db.KeyDeleteAsync(key);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            await db.KeyRestoreAsync(keys[i], dumps[i]!);
        }

        Assert.Equal(TaskState.Started, (await store.GetAsync(id))!.State);
        var restored = new TaskCompletionSource();
        connection.ConnectionRestored += (_, _) => restored.TrySetResult();
        await db.ExecuteAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        await restored.Task.WaitAsync(Bound);

        var description = new WorkerDescription(queues, 1, new WorkerStatus());
        await Poll.UntilAsync(
            async () =>
            {
                await store.HeartbeatAsync(description, []);
                return await store.RecoverAsync(queues) == 1;
            },
            "the restored lease is recovered",
            Bound,
            TimeSpan.FromMilliseconds(100));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task A_lease_of_a_store_that_stopped_is_recovered_through_the_lease_registry_and_its_entry_is_pruned()
    {
        // Input: store A (lease 1 s, heartbeat 200 ms) fetches a task of "l2" among 20 queues and
        // beats once, then is disposed; store B recovered the 20 queues before (its first look).
        // Expected: while A's lease lasts B's recovery runs no script; once it expired B brings
        // the task back, without its safety look; A's registry entry is pruned afterwards.
        await using var server = await RedisServer.StartAsync();
        await using var watching = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var watcher = new RedisTaskStore(watching, new RedisTransportOptions
        {
            KeyPrefix = "lr",
            SafetyLookInterval = TimeSpan.FromMinutes(10),
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            WorkerTimeout = TimeSpan.FromSeconds(1),
        });
        var queues = Enumerable.Range(0, 20).Select(i => "l" + i).ToArray();
        var db = watching.GetDatabase();
        string id;
        await using (var holding = await ConnectionMultiplexer.ConnectAsync(server.Endpoint))
        {
            await using var holder = new RedisTaskStore(holding, new RedisTransportOptions
            {
                KeyPrefix = "lr",
                HeartbeatInterval = TimeSpan.FromMilliseconds(200),
                WorkerTimeout = TimeSpan.FromSeconds(1),
            });
            id = await holder.EnqueueAsync("l2", New(Small()));
            Assert.Equal(0, await watcher.RecoverAsync(queues));
            var lease = Assert.Single(await holder.FetchAsync(queues, 1, CancellationToken.None));
            await holder.HeartbeatAsync(new WorkerDescription(queues, 1, new WorkerStatus()), [lease]);
            await db.ExecuteAsync("CONFIG", "RESETSTAT");
            Assert.Equal(0, await watcher.RecoverAsync(queues));
            Assert.DoesNotMatch("cmdstat_(fcall|evalsha|eval):", (string)(await db.ExecuteAsync("INFO", "commandstats"))!);
        }

        await Poll.UntilAsync(async () => await watcher.RecoverAsync(queues) == 1, "the expired lease is recovered", Bound);
        Assert.Equal(TaskState.Pending, (await watcher.GetAsync(id))!.State);
        await Poll.UntilAsync(async () => { await watcher.RecoverAsync(queues); return await db.SortedSetLengthAsync("lr:workers:leases") == 0; }, "the stopped holder's entry is pruned", Bound);
    }
}

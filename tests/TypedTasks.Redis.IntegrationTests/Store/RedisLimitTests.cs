using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using Xunit;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// Rate and concurrency limits in the Redis store, on what only Redis has: the record format, the
/// bound on tasks held back per fetch, keys of another Redis type where the limit scripts write,
/// and the keys a limit leaves behind.
/// </summary>
public abstract class RedisLimitTests() : OneStoreTests("lt")
{
    private static TaskToEnqueue Limited(string key, int count, TimeSpan? per = null, int priority = 0)
        => New(priority: priority) with { Limits = [new TaskLimit(key, count, per)] };

    [Fact]
    public async Task A_concurrency_limit_holds_back_what_it_has_no_room_for_and_lets_the_oldest_go_when_a_run_ends()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await Store.EnqueueAsync("q", Limited("Import", 2, priority: 3)));
        }

        var first = await Store.FetchAsync(["q"], 10, CancellationToken.None);
        Assert.Equal(ids[..2], first.Select(l => l.Id));
        var counts = await Store.CountAsync("q");
        Assert.Equal((3L, 3L, 2L), (counts.Pending, counts.Held, counts.Started));

        // The record keeps the limits beside the envelope: readers see the priority and envelope as sent.
        var held = await Store.GetStoredAsync(ids[2]);
        Assert.Equal((TaskState.Pending, 3), (held!.Info.State, held.Priority));
        Assert.Equal(Envelope("Add").Length, held.Envelope.Length);
        Assert.Equal(ids[2..], (await Store.ListHeldAsync("q", new TaskLimit("Import", 2), 0, 10)).Select(t => t.Info.Id));
        var limit = Assert.Single(await Store.GetLimitsAsync("q", 10));
        Assert.Equal(new StoredLimit("Import", 2, null, 2, 3), limit);

        Assert.True(await Store.CompleteAsync(first[0], TaskCompletion.Succeeded(new byte[] { 1 })));
        var third = Assert.Single(await Store.FetchAsync(["q"], 10, CancellationToken.None));
        Assert.Equal(ids[2], third.Id);

        // A failed run gives its slot back too; when every run has ended, nothing of the limit is left in Redis.
        Assert.True(await Store.CompleteAsync(first[1], TaskCompletion.Failed(new TaskError("E", "m", null))));
        var fourth = await FetchOneAsync();
        Assert.Equal(ids[3], fourth.Id);
        Assert.Empty(await Store.FetchAsync(["q"], 10, CancellationToken.None));
        Assert.True(await Store.CompleteAsync(third, TaskCompletion.Succeeded(new byte[] { 1 })));
        var fifth = await FetchOneAsync();
        Assert.Equal(ids[4], fifth.Id);
        Assert.True(await Store.CompleteAsync(fourth, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.True(await Store.CompleteAsync(fifth, TaskCompletion.Succeeded(new byte[] { 1 })));

        Assert.Empty(await Store.GetLimitsAsync("q", 10));
        Assert.False(await Raw.KeyExistsAsync(K("q", "lc:Import")));
        Assert.False(await Raw.KeyExistsAsync(K("q", "lh:c:Import")));
        Assert.Equal(0, (await Store.CountAsync("q")).Held);
    }

    [Fact]
    public async Task A_small_limited_task_keeps_its_record_in_its_bucket_and_its_limits_under_the_task_name()
    {
        // Input: 30-byte version 2 envelopes of task "Orders.Add..."; one task with a concurrency
        // limit of the whole task, one with a limit keyed "<its name>|tenant=7". Expected: the first
        // record stays a field of its bucket (a key is kept without the task's name, which the
        // envelope gives); the limits in use show the whole keys.
        var envelope = VersionTwo(30);
        var name = TypedTasks.Serialization.TaskEnvelope.TryReadTaskName(envelope)!;
        var whole = await Store.EnqueueAsync("q", New(envelope) with { Limits = [new TaskLimit(name, 1)] });
        var keyed = await Store.EnqueueAsync("q", New(envelope) with { Limits = [new TaskLimit(name + "|tenant=7", 1)] });

        Assert.NotEqual("x", (string?)await Raw.HashGetAsync(K("q", "t:0"), whole.Split('-', '@')[1]));
        Assert.Equal([whole, keyed], (await Store.FetchAsync(["q"], 10, CancellationToken.None)).Select(l => l.Id));
        Assert.Equal(
            [new StoredLimit(name, 1, null, 1, 0), new StoredLimit(name + "|tenant=7", 1, null, 1, 0)],
            await Store.GetLimitsAsync("q", 10));
    }

    [Fact]
    public async Task Two_runs_ending_before_the_next_fetch_let_the_two_oldest_held_tasks_go_and_no_other()
    {
        // Input: a concurrency limit of 2, tasks A to G; A and B run, C to G are held; A and B end
        // in two calls with no fetch between. Expected: the next fetch starts C and D; E, F, G stay
        // held in their order (no task let go twice, none overtaken and held again).
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await Store.EnqueueAsync("q", Limited("Import", 2)));
        }

        var running = await Store.FetchAsync(["q"], 7, CancellationToken.None);
        Assert.Equal(ids[..2], running.Select(l => l.Id));
        foreach (var lease in running)
        {
            Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        }

        var next = await Store.FetchAsync(["q"], 3, CancellationToken.None);
        Assert.Equal(ids[2..4].Order(), next.Select(l => l.Id).Order());
        Assert.Equal(ids[4..], (await Store.ListHeldAsync("q", new TaskLimit("Import", 2), 0, 10)).Select(t => t.Info.Id));
    }

    [Fact]
    public async Task A_task_canceled_while_it_runs_is_neither_deleted_nor_requeued_until_its_worker_settles_it()
    {
        // Input: a limited task started, then canceled (its worker has not settled it), then deleted
        // and requeued. Expected: both skip it (it still runs and counts), and once its worker settles
        // it nothing of its limit is left.
        var id = await Store.EnqueueAsync("q", Limited("Import|tenant=\"acme\"", 5));
        var lease = Assert.Single(await Store.FetchAsync(["q"], 1, CancellationToken.None));
        Assert.True(await Store.CancelAsync(id));

        Assert.Equal(0, await Store.DeleteAsync([id]));
        Assert.Equal(0, await Store.RequeueAsync([id]));
        Assert.Equal(1, Assert.Single(await Store.GetLimitsAsync("q", 10)).Active);

        Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Canceled()));
        Assert.Empty(await Store.GetLimitsAsync("q", 10));
        Assert.Equal(1, await Store.DeleteAsync([id]));
    }

    [Fact]
    public async Task A_fetch_goes_past_more_held_back_tasks_than_one_call_may_hold_to_the_free_ones_behind_them()
    {
        var busy = new List<TaskToEnqueue>();
        for (var i = 0; i < 600; i++)
        {
            busy.Add(Limited("Busy", 1));
        }

        var busyIds = await Store.EnqueueManyAsync("q", busy);
        var free = await Store.EnqueueAsync("q", New());

        var leases = await Store.FetchAsync(["q"], 10, CancellationToken.None);
        Assert.Equal([busyIds[0], free], leases.Select(l => l.Id));
        var counts = await Store.CountAsync("q");
        Assert.Equal((599L, 599L), (counts.Pending, counts.Held));
    }

    [Fact]
    public async Task A_rate_limit_starts_at_most_its_count_in_any_window_and_lets_the_rest_go_when_the_window_frees()
    {
        var per = TimeSpan.FromMilliseconds(700);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await Store.EnqueueAsync("q", Limited("Mail", 3, per)));
        }

        var started = new List<(string Id, DateTimeOffset At)>();
        var due = DateTimeOffset.MaxValue;
        using var cts = new CancellationTokenSource(Bound);
        while (started.Count < 7)
        {
            cts.Token.ThrowIfCancellationRequested();
            var promoted = await Store.PromoteDueAsync(["q"]);
            var leases = await Store.FetchAsync(["q"], 10, cts.Token);
            foreach (var lease in leases)
            {
                var info = await Store.GetAsync(lease.Id);
                started.Add((lease.Id, info!.UpdatedAt));
                Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
            }

            if (started.Count == 3 && promoted is { } next)
            {
                due = next;
            }
        }

        Assert.Equal(ids, started.Select(s => s.Id));
        for (var i = 0; i + 3 < started.Count; i++)
        {
            Assert.True(started[i + 3].At - started[i].At >= per, $"start {i + 3} came {(started[i + 3].At - started[i].At).TotalMilliseconds} ms after start {i}");
        }

        Assert.NotEqual(DateTimeOffset.MaxValue, due);
    }

    [Fact]
    public async Task A_limit_key_of_another_type_fails_its_task_with_the_reason_and_the_others_run()
    {
        await Raw.StringSetAsync(K("q", "lh:c:Broken"), "someone else's");
        await Raw.StringSetAsync(K("q", "lc:Broken"), "someone else's");
        var broken = await Store.EnqueueAsync("q", Limited("Broken", 1));
        var fine = await Store.EnqueueAsync("q", Limited("Fine", 1));

        var lease = Assert.Single(await Store.FetchAsync(["q"], 10, CancellationToken.None));
        Assert.Equal(fine, lease.Id);
        var failed = await Store.GetAsync(broken);
        Assert.Equal(TaskState.Failed, failed!.State);
        Assert.Contains("WRONGTYPE", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("someone else's", (string?)await Raw.StringGetAsync(K("q", "lh:c:Broken")));
    }

    [Fact]
    public async Task A_workflow_member_whose_limit_and_link_hash_hold_another_type_fails_the_fetch_naming_the_link_before_any_task_starts()
    {
        // Input: a plain task, then a workflow member (chosen id m-1, linked to join J) whose
        // concurrency limit key lc:Broken holds a string, and the link hash holds a string too.
        // Error: the fetch fails, InvalidDataException naming the link hash, and starts nothing
        // (no lease). Before, it failed midway with a WRONGTYPE naming no key, after adding the
        // plain task's lease while its record stayed Pending. Once the link is mended the plain
        // task starts and the member ends Failed with the reason.
        await Raw.StringSetAsync(K("q", "lc:Broken"), "someone else's");
        var fine = await Store.EnqueueAsync("q", New());
        await Store.EnqueueAsync("q", Limited("Broken", 1) with { ChosenId = "m-1", Link = new WorkflowLink("q", "J", 0) });
        await Raw.KeyDeleteAsync(K("q", "link"));
        await Raw.StringSetAsync(K("q", "link"), "someone else's");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Store.FetchAsync(["q"], 10, CancellationToken.None).AsTask());
        Assert.Contains($"{Prefix}:{{q}}:link holds a string", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("q", "leases")));
        Assert.Equal((TaskState.Pending, TaskState.Pending), ((await Store.GetAsync(fine))!.State, (await Store.GetAsync("m-1@q"))!.State));

        await Raw.KeyDeleteAsync(K("q", "link"));
        Assert.Equal(fine, Assert.Single(await Store.FetchAsync(["q"], 10, CancellationToken.None)).Id);
        Assert.Equal(TaskState.Failed, (await Store.GetAsync("m-1@q"))!.State);
    }

    [Fact]
    public async Task A_held_task_whose_pending_list_holds_another_type_stays_held_when_a_slot_frees_and_goes_once_it_is_mended()
    {
        var running = await Store.EnqueueAsync("q", Limited("Import", 1, priority: 5));
        var held = await Store.EnqueueAsync("q", Limited("Import", 1, priority: 5));
        var lease = Assert.Single(await Store.FetchAsync(["q"], 10, CancellationToken.None));
        Assert.Equal(running, lease.Id);
        Assert.Equal(1, (await Store.CountAsync("q")).Held);

        await Raw.StringSetAsync(K("q", "pending:5"), "in the way");
        Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal(held, Assert.Single(await Store.ListHeldAsync("q", new TaskLimit("Import", 1), 0, 10)).Info.Id);

        // Mended: the limit's periodic look lets it go.
        await Raw.KeyDeleteAsync(K("q", "pending:5"));
        await Raw.SortedSetAddAsync(K("q", "gates"), "c:Import", 0);
        await Store.PromoteDueAsync(["q"]);
        Assert.Equal(held, (await FetchOneAsync()).Id);
    }

    [Fact]
    public async Task A_recovered_lease_gives_its_slot_back_and_a_held_task_cancels_out_of_its_held_list()
    {
        await using var store = new RedisTaskStore(Connection, new RedisTransportOptions { KeyPrefix = Prefix, IdleFetchInterval = TimeSpan.FromMilliseconds(300), LeaseDuration = TimeSpan.FromMilliseconds(300), HeartbeatInterval = TimeSpan.FromMilliseconds(100), WorkerTimeout = TimeSpan.FromMilliseconds(300) }, TimeSpan.FromMinutes(10));
        var lost = await store.EnqueueAsync("q", Limited("Import", 1));
        var canceled = await store.EnqueueAsync("q", Limited("Import", 1));
        var next = await store.EnqueueAsync("q", Limited("Import", 1));
        Assert.Equal(lost, Assert.Single(await store.FetchAsync(["q"], 10, CancellationToken.None)).Id);
        Assert.Equal(2, (await store.CountAsync("q")).Held);

        Assert.True(await store.CancelAsync(canceled));
        Assert.Equal(1, (await store.CountAsync("q")).Held);
        Assert.Equal(next, Assert.Single(await store.ListHeldAsync("q", new TaskLimit("Import", 1), 0, 10)).Info.Id);

        await Poll.UntilAsync(async () => await store.RecoverAsync(["q"]) == 1, "the expired lease is recovered", Bound);
        var leases = await store.FetchAsync(["q"], 10, CancellationToken.None);
        Assert.Single(leases);
        Assert.Contains(leases[0].Id, new[] { lost, next });
        Assert.Equal(1, (await store.CountAsync("q")).Held);
    }

    private async Task<TaskLease> FetchOneAsync()
    {
        using var cts = new CancellationTokenSource(Bound);
        while (true)
        {
            var leases = await Store.FetchAsync(["q"], 1, cts.Token);
            if (leases.Count == 1)
            {
                return leases[0];
            }
        }
    }
}

/// <summary>Limits on a single server.</summary>
public sealed class StandaloneRedisLimitTests(RedisFixture redis) : RedisLimitTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>Limits on a 3-master Cluster: every key of a limit shares its queue's slot.</summary>
public sealed class ClusterRedisLimitTests(RedisClusterFixture cluster) : RedisLimitTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;
using Xunit;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// Rate and concurrency limits (<see cref="TaskToEnqueue.Limits"/>): a fetch starts a limited
/// task only while each of its limits admits it, holds the others Pending without stopping at
/// them, and a limit lets its held tasks go when a run ends or its window frees a start. Windows
/// pass in real time, as everywhere in the suite: a store on a server reads its own clock.
/// </summary>
public abstract partial class TaskStoreConformance
{
    private const string LimitKey = "conformance.task";

    [Fact]
    public async Task A_concurrency_limit_starts_its_count_holds_the_rest_pending_and_lets_one_go_when_a_run_ends()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 5).Select(_ => Limited(LimitKey, 2))]);

        var leases = await store.FetchAsync([Queue], 10, CancellationToken.None);
        Assert.Equal(ids.Take(2), leases.Select(l => l.Id));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((3L, 3L, 2L), (counts.Pending, counts.Held, counts.Started));
        foreach (var id in ids.Skip(2))
        {
            Assert.Equal((TaskState.Pending, 0), ((await store.GetAsync(id))!.State, (await store.GetAsync(id))!.Attempt));
        }

        Assert.True(await store.CompleteAsync(leases[0], TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal([ids[2]], (await store.FetchAsync([Queue], 10, CancellationToken.None)).Select(l => l.Id));
        counts = await store.CountAsync(Queue);
        Assert.Equal((2L, 2L, 2L), (counts.Pending, counts.Held, counts.Started));

        // Both slots are taken again: a fetch finds nothing it may start.
        Assert.Empty(await store.FetchAsync([Queue], 10, CancellationToken.None));
        Assert.Equal(2, (await store.CountAsync(Queue)).Held);
    }

    [Fact]
    public async Task A_held_key_does_not_hold_up_another_key_or_an_unlimited_task_queued_behind_it()
    {
        var store = await StoreAsync();
        var a = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 4).Select(_ => Limited(LimitKey + "|tenant=\"a\"", 1))]);
        var b = await store.EnqueueAsync(Queue, Limited(LimitKey + "|tenant=\"b\"", 1));
        var unlimited = await store.EnqueueAsync(Queue, Item());

        var leases = await store.FetchAsync([Queue], 10, CancellationToken.None);
        Assert.Equal([a[0], b, unlimited], leases.Select(l => l.Id));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((3L, 3L, 3L), (counts.Pending, counts.Held, counts.Started));
    }

    [Theory]
    [InlineData("succeeded")]
    [InlineData("failed")]
    [InlineData("expired")]
    [InlineData("retrying")]
    [InlineData("canceled while running")]
    [InlineData("released")]
    [InlineData("recovered after its lease expired")]
    public async Task Every_end_of_a_run_frees_its_concurrency_slot_for_the_oldest_held_task(string end)
    {
        var recovered = end.StartsWith("recovered", StringComparison.Ordinal);
        var store = await StoreAsync(recovered ? StoreSettings.Default with { LeaseDuration = TimeSpan.FromMilliseconds(300) } : null);
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 3).Select(_ => Limited(LimitKey, 1))]);
        var running = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));
        Assert.Equal(ids[0], running.Id);
        Assert.Equal(2, (await store.CountAsync(Queue)).Held);

        switch (end)
        {
            case "canceled while running":
                // The worker hears of the cancel and settles its run.
                Assert.True(await store.CancelAsync(running.Id));
                Assert.True(await store.CompleteAsync(running, TaskCompletion.Canceled()));
                break;
            case "recovered after its lease expired":
                await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 1, "the expired lease is recovered", Bound);
                break;
            default:
                Assert.True(await store.CompleteAsync(running, end switch
                {
                    "succeeded" => TaskCompletion.Succeeded(new byte[] { 1 }),
                    "failed" => TaskCompletion.Failed(new TaskError("Boom", "failed", null)),
                    "expired" => TaskCompletion.Expired(),
                    "retrying" => TaskCompletion.Retry(new TaskError("Boom", "again", null), Now().AddHours(1)),
                    _ => TaskCompletion.Released(),
                }));
                break;
        }

        var next = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));
        var counts = await store.CountAsync(Queue);
        if (end is "released" || recovered)
        {
            // The run's own task is Pending again: it and the task let go compete for the one slot.
            Assert.Contains(next.Id, ids.Take(2));
            Assert.Equal((2L, 2L, 1L), (counts.Pending, counts.Held, counts.Started));
        }
        else
        {
            Assert.Equal(ids[1], next.Id);
            Assert.Equal((1L, 1L, 1L), (counts.Pending, counts.Held, counts.Started));
        }
    }

    [Fact]
    public async Task A_retried_task_frees_its_slot_and_is_checked_again_when_it_is_due()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 2).Select(_ => Limited(LimitKey, 1))]);
        var first = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));
        Assert.True(await store.CompleteAsync(first, TaskCompletion.Retry(new TaskError("Boom", "again", null), Now().AddMilliseconds(300))));
        var second = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));
        Assert.Equal(ids[1], second.Id);

        // Due while the other runs: Pending again, and held by the limit at the next fetch.
        await Poll.UntilAsync(async () =>
        {
            await store.PromoteDueAsync([Queue]);
            return (await store.GetAsync(ids[0]))!.State == TaskState.Pending;
        }, "the retried task is due", Bound);
        Assert.Empty(await store.FetchAsync([Queue], 10, CancellationToken.None));
        Assert.Equal(1, (await store.CountAsync(Queue)).Held);

        Assert.True(await store.CompleteAsync(second, TaskCompletion.Succeeded(new byte[] { 1 })));
        var again = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));
        Assert.Equal((ids[0], 2), (again.Id, again.Attempt));
    }

    [Fact]
    public async Task A_held_task_that_is_canceled_or_deleted_leaves_its_held_list_and_never_runs()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 4).Select(_ => Limited(LimitKey, 1))]);
        var running = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));

        Assert.True(await store.CancelAsync(ids[1]));
        Assert.Equal(1, await store.DeleteAsync([ids[2]]));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((1L, 1L, 1L), (counts.Pending, counts.Held, counts.Canceled));
        Assert.Equal([ids[3]], (await store.ListHeldAsync(Queue, new TaskLimit(LimitKey, 1), 0, 10)).Select(t => t.Info.Id));

        Assert.True(await store.CompleteAsync(running, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal([ids[3]], (await store.FetchAsync([Queue], 10, CancellationToken.None)).Select(l => l.Id));
        Assert.Equal(TaskState.Canceled, (await store.GetAsync(ids[1]))!.State);
        Assert.Null(await store.GetAsync(ids[2]));
        Assert.Equal(0, (await store.CountAsync(Queue)).Held);
    }

    [Fact]
    public async Task Held_tasks_are_listed_and_purged_as_pending_after_the_ones_that_can_start()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 3).Select(_ => Limited(LimitKey, 1))]);
        var running = Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));
        var free = await store.EnqueueAsync(Queue, Item());

        var pending = await store.ListAsync(Queue, TaskState.Pending, 0, 10);
        Assert.Equal([free, ids[1], ids[2]], pending.Select(t => t.Info.Id));
        Assert.All(pending, t => Assert.Equal((TaskState.Pending, (DateTimeOffset?)null), (t.Info.State, t.DueAt)));
        Assert.Equal([ids[2]], await ListIds(store, TaskState.Pending, 2, 10));

        Assert.Equal(3, await store.PurgeAsync(Queue, 10));
        Assert.Equal(0, await store.PurgeAsync(Queue, 10));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 0L, 1L), (counts.Pending, counts.Held, counts.Started));
        Assert.Empty(await store.ListHeldAsync(Queue, new TaskLimit(LimitKey, 1), 0, 10));
        Assert.True(await store.CompleteAsync(running, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Empty(await store.FetchAsync([Queue], 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_rate_limit_starts_at_most_its_count_in_any_window_and_lets_held_tasks_go_as_the_window_frees()
    {
        var store = await StoreAsync();
        var per = TimeSpan.FromSeconds(1);
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 7).Select(_ => Limited(LimitKey, 3, per))]);

        var before = Now();
        var first = await store.FetchAsync([Queue], 10, CancellationToken.None);
        var after = Now().AddMilliseconds(1);
        Assert.Equal(ids.Take(3), first.Select(l => l.Id));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((4L, 4L), (counts.Pending, counts.Held));

        // Before the window frees a start, promotion lets none go and says when it will.
        var due = await store.PromoteDueAsync([Queue]);
        if (Now() < before + per)
        {
            Assert.NotNull(due);
            Assert.InRange(due.Value, before + per, after + per);
            Assert.Equal(4, (await store.CountAsync(Queue)).Held);
        }

        var started = new List<string>(first.Select(l => l.Id));
        var starts = new List<DateTimeOffset>();
        foreach (var lease in first)
        {
            starts.Add((await store.GetAsync(lease.Id))!.UpdatedAt);
        }

        var batches = new List<int> { first.Count };
        await Poll.UntilAsync(async () =>
        {
            await store.PromoteDueAsync([Queue]);
            var leases = await store.FetchAsync([Queue], 10, CancellationToken.None);
            if (leases.Count > 0)
            {
                batches.Add(leases.Count);
            }

            foreach (var lease in leases)
            {
                started.Add(lease.Id);
                starts.Add((await store.GetAsync(lease.Id))!.UpdatedAt);
            }

            return started.Count == ids.Count;
        }, "every task started as the window let it", Bound);

        // In the order they were held, as many at once as the window freed, never more than 3 in any second.
        Assert.Equal(ids, started);
        Assert.Equal([3, 3, 1], batches);
        starts.Sort();
        for (var i = 0; i + 3 < starts.Count; i++)
        {
            Assert.True(starts[i + 3] - starts[i] >= per, $"Starts {i} ({starts[i]:O}) and {i + 3} ({starts[i + 3]:O}) are in one window.");
        }

        Assert.Equal(0, (await store.CountAsync(Queue)).Held);
    }

    [Fact]
    public async Task Limits_in_use_are_listed_in_key_order_with_what_they_count_and_hold()
    {
        var store = await StoreAsync();
        var hour = TimeSpan.FromHours(1);
        var tenant = LimitKey + "|tenant=\"b\"";
        Assert.Empty(await store.GetLimitsAsync(Queue, 10));
        var one = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 3).Select(_ => Limited(LimitKey, 1))]);
        var rated = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 3).Select(_ => Limited(tenant, 2, hour))]);
        var both = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 2).Select(_ => Item() with
        {
            Limits = [new TaskLimit("conformance.both", 1), new TaskLimit("conformance.both", 5, hour)],
        })]);

        var leases = await store.FetchAsync([Queue], 20, CancellationToken.None);
        Assert.Equal([one[0], rated[0], rated[1], both[0]], leases.Select(l => l.Id));

        var limits = await store.GetLimitsAsync(Queue, 10);
        Assert.Equal(limits.Select(l => l.Key).Order(StringComparer.Ordinal), limits.Select(l => l.Key));
        Assert.Equal(
            [
                new StoredLimit("conformance.both", 1, null, 1, 1),
                new StoredLimit("conformance.both", 5, hour, 1, 0),
                new StoredLimit(LimitKey, 1, null, 1, 2),
                new StoredLimit(tenant, 2, hour, 2, 1),
            ],
            limits.OrderBy(l => l.Key, StringComparer.Ordinal).ThenBy(l => l.Per is not null));
        Assert.Equal(2, (await store.GetLimitsAsync(Queue, 2)).Count);
        Assert.Empty(await store.GetLimitsAsync("conformance-other", 10));

        // A concurrency limit with nothing running or held is not in use; a rate limit is while its window holds a start.
        foreach (var id in one.Skip(1).Concat(rated.Skip(2)).Concat(both.Skip(1)))
        {
            Assert.True(await store.CancelAsync(id));
        }

        foreach (var lease in leases)
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        }

        Assert.Equal(
            [new StoredLimit("conformance.both", 5, hour, 1, 0), new StoredLimit(tenant, 2, hour, 2, 0)],
            (await store.GetLimitsAsync(Queue, 10)).OrderBy(l => l.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Held_tasks_of_a_limit_page_in_the_order_it_lets_them_go()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 6).Select(_ => Limited(LimitKey, 1))]);
        Assert.Single(await store.FetchAsync([Queue], 10, CancellationToken.None));

        // Only the key and the kind name the list: the count given is not read.
        var limit = new TaskLimit(LimitKey, 99);
        Assert.Equal(ids.Skip(1), (await store.ListHeldAsync(Queue, limit, 0, 10)).Select(t => t.Info.Id));
        Assert.Equal([ids[2], ids[3]], (await store.ListHeldAsync(Queue, limit, 1, 2)).Select(t => t.Info.Id));
        Assert.Equal([ids[5]], (await store.ListHeldAsync(Queue, limit, 4, 10)).Select(t => t.Info.Id));
        Assert.Empty(await store.ListHeldAsync(Queue, limit, 5, 10));
        var row = (await store.ListHeldAsync(Queue, limit, 0, 1))[0];
        Assert.Equal((TaskState.Pending, "conformance.task", (DateTimeOffset?)null), (row.Info.State, row.Info.TaskName, row.DueAt));
        Assert.False(row.Envelope.IsEmpty);

        Assert.Empty(await store.ListHeldAsync(Queue, new TaskLimit(LimitKey, 1, TimeSpan.FromSeconds(1)), 0, 10));
        Assert.Empty(await store.ListHeldAsync(Queue, new TaskLimit("conformance.other", 1), 0, 10));
        Assert.Empty(await store.ListHeldAsync("conformance-other", limit, 0, 10));
    }

    [Fact]
    public async Task Unique_locks_are_listed_soonest_to_lapse_first_while_their_task_is_not_final()
    {
        var store = await StoreAsync();
        var before = Now();
        var later = await store.EnqueueAsync(Queue, Unique("order:1", uniqueFor: TimeSpan.FromMinutes(10)));
        var sooner = await store.EnqueueAsync(Queue, Unique("order:2", uniqueFor: TimeSpan.FromMinutes(5)));
        await store.EnqueueAsync(Queue, Item());
        var after = Now().AddMilliseconds(1);

        var locks = await store.GetLocksAsync(Queue, 10);
        Assert.Equal([("conformance.task:order:2", sooner), ("conformance.task:order:1", later)], locks.Select(l => (l.Key, l.TaskId)));
        Assert.InRange(locks[0].ExpiresAt, before.AddMinutes(5), after.AddMinutes(5));
        Assert.InRange(locks[1].ExpiresAt, before.AddMinutes(10), after.AddMinutes(10));
        Assert.Single(await store.GetLocksAsync(Queue, 1));
        Assert.Empty(await store.GetLocksAsync("conformance-other", 10));

        // Its task ends: the lock is not listed any more, though its bound has not passed.
        var lease = await FetchOneAsync(store, Queue);
        Assert.Equal(later, lease.Id);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal([sooner], (await store.GetLocksAsync(Queue, 10)).Select(l => l.TaskId));
        Assert.True(await store.CancelAsync(sooner));
        Assert.Empty(await store.GetLocksAsync(Queue, 10));

        // Its bound passes: the lock lapses though its task still waits.
        var brief = await store.EnqueueAsync(Queue, Unique("order:3", uniqueFor: TimeSpan.FromMilliseconds(300)));
        Assert.Equal([brief], (await store.GetLocksAsync(Queue, 10)).Select(l => l.TaskId));
        await Poll.UntilAsync(async () => (await store.GetLocksAsync(Queue, 10)).Count == 0, "the lock lapses after its UniqueFor", Bound);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(brief))!.State);
    }

    [Fact]
    public async Task Limits_that_cannot_be_kept_are_refused_and_store_nothing()
    {
        var store = await StoreAsync();
        var twoOfAKind = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, Item() with
        {
            Limits = [new TaskLimit(LimitKey, 1), new TaskLimit(LimitKey, 2)],
        }).AsTask());
        Assert.Contains("two limits of one kind", twoOfAKind.Message, StringComparison.Ordinal);

        var zero = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueManyAsync(Queue, [Item(), Limited(LimitKey, 0)]).AsTask());
        Assert.Contains("a limit is at least 1", zero.Message, StringComparison.Ordinal);
        var window = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, Limited(LimitKey, 1, TimeSpan.Zero)).AsTask());
        Assert.Contains("a window is 1 ms to 1 day", window.Message, StringComparison.Ordinal);
        var noKey = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, Limited("", 1)).AsTask());
        Assert.Contains("no key", noKey.Message, StringComparison.Ordinal);

        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 0, 0), await store.CountAsync(Queue));
        Assert.Empty(await store.GetQueuesAsync());
        Assert.Empty(await store.GetLimitsAsync(Queue, 10));
    }

    private static TaskToEnqueue Limited(string key, int count, TimeSpan? per = null)
        => Item() with { Limits = [new TaskLimit(key, count, per)] };
}

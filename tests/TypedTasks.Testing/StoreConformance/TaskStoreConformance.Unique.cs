using System;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Store;
using Xunit;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// Unique tasks (<see cref="TaskToEnqueue.UniqueKey"/>): while the task that took a key's lock is
/// not final, and at most for its UniqueFor, an enqueue with that key stores nothing and returns
/// the first task's id.
/// </summary>
public abstract partial class TaskStoreConformance
{
    [Fact]
    public async Task A_unique_key_returns_the_first_task_while_it_waits_and_another_key_or_queue_gets_its_own()
    {
        var store = await StoreAsync();
        var first = await store.EnqueueAsync(Queue, Unique("order:1"));
        Assert.Equal(first, await store.EnqueueAsync(Queue, Unique("order:1", priority: 9)));
        var scheduled = await store.EnqueueAsync(Queue, Unique("order:2", due: Now().AddHours(1)));
        Assert.Equal(scheduled, await store.EnqueueAsync(Queue, Unique("order:2")));

        var other = await store.EnqueueAsync(Queue, Unique("order:3"));
        var elsewhere = await store.EnqueueAsync("conformance-other", Unique("order:1"));
        Assert.Equal(4, new[] { first, scheduled, other, elsewhere }.Distinct().Count());
        var counts = await store.CountAsync(Queue);
        Assert.Equal((2, 1), (counts.Pending, counts.Scheduled));
    }

    [Fact]
    public async Task A_unique_key_stays_locked_while_its_task_runs_and_while_it_waits_after_a_lost_lease()
    {
        var store = await StoreAsync(StoreSettings.Default with { LeaseDuration = TimeSpan.FromMilliseconds(300) });
        var first = await store.EnqueueAsync(Queue, Unique("order:1"));
        var lost = await FetchOneAsync(store, Queue);
        Assert.Equal(first, await store.EnqueueAsync(Queue, Unique("order:1")));

        await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 1, "the expired lease is recovered", Bound);
        Assert.Equal(first, await store.EnqueueAsync(Queue, Unique("order:1")));
        Assert.Equal(1, (await store.CountAsync(Queue)).Pending);
        Assert.False(await store.CompleteAsync(lost, TaskCompletion.Succeeded(new byte[] { 1 })));
    }

    [Theory]
    [InlineData("succeeded")]
    [InlineData("failed")]
    [InlineData("canceled while pending")]
    [InlineData("canceled while running")]
    [InlineData("expired")]
    public async Task A_unique_key_is_taken_over_once_its_task_is_final(string end)
    {
        var store = await StoreAsync();
        var first = await store.EnqueueAsync(Queue, Unique("order:1"));
        if (end == "canceled while pending")
        {
            Assert.True(await store.CancelAsync(first));
        }
        else
        {
            var lease = await FetchOneAsync(store, Queue);
            if (end == "canceled while running")
            {
                Assert.True(await store.CancelAsync(first));
            }
            else
            {
                Assert.True(await store.CompleteAsync(lease, end switch
                {
                    "succeeded" => TaskCompletion.Succeeded(new byte[] { 1 }),
                    "failed" => TaskCompletion.Failed(new TaskError("Boom", "failed", null)),
                    _ => TaskCompletion.Expired(),
                }));
            }
        }

        var second = await store.EnqueueAsync(Queue, Unique("order:1"));
        Assert.NotEqual(first, second);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(second))!.State);
        Assert.Equal(second, await store.EnqueueAsync(Queue, Unique("order:1")));
    }

    [Fact]
    public async Task A_unique_key_is_taken_over_when_its_task_was_deleted_or_its_unique_for_passed()
    {
        var store = await StoreAsync();
        var deleted = await store.EnqueueAsync(Queue, Unique("order:1"));
        Assert.Equal(1, await store.DeleteAsync([deleted]));
        var after = await store.EnqueueAsync(Queue, Unique("order:1"));
        Assert.NotEqual(deleted, after);

        var brief = await store.EnqueueAsync(Queue, Unique("order:2", uniqueFor: TimeSpan.FromMilliseconds(300)));
        string? next = null;
        await Poll.UntilAsync(async () => (next = await store.EnqueueAsync(Queue, Unique("order:2", uniqueFor: TimeSpan.FromMilliseconds(300)))) != brief,
            "the lock lapses after its UniqueFor", Bound);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(brief))!.State);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(next!))!.State);
    }

    [Fact]
    public async Task Racing_enqueues_with_one_unique_key_store_one_task_and_all_get_its_id()
    {
        var store = await StoreAsync();
        var ids = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
            i % 2 == 0
                ? await store.EnqueueAsync(Queue, Unique("order:1"))
                : (await store.EnqueueManyAsync(Queue, [Unique("order:1")]))[0])));

        Assert.Single(ids.Distinct());
        Assert.Equal(1, (await store.CountAsync(Queue)).Pending);
    }

    [Fact]
    public async Task A_unique_key_twice_in_one_batch_stores_one_task_and_returns_its_id_twice()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Unique("order:1"), Unique("order:2"), Unique("order:1"), Item()]);

        Assert.Equal(ids[0], ids[2]);
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(3, (await store.CountAsync(Queue)).Pending);
        Assert.Equal(ids[1], await store.EnqueueAsync(Queue, Unique("order:2")));
    }

    [Fact]
    public async Task A_unique_key_without_a_bound_or_a_bound_without_a_key_is_refused_and_stores_nothing()
    {
        var store = await StoreAsync();
        var noBound = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, Item() with { UniqueKey = "order:1" }).AsTask());
        Assert.Contains("no UniqueFor", noBound.Message, StringComparison.Ordinal);
        var noKey = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueManyAsync(Queue, [Item(), Item() with { UniqueFor = TimeSpan.FromMinutes(1) }]).AsTask());
        Assert.Contains("no UniqueKey", noKey.Message, StringComparison.Ordinal);
        var zero = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, Unique("order:1", uniqueFor: TimeSpan.Zero)).AsTask());
        Assert.Contains("at least 1 ms", zero.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await store.CountAsync(Queue)).Pending);
    }

    private static TaskToEnqueue Unique(string key, int priority = 0, DateTimeOffset? due = null, TimeSpan? uniqueFor = null)
        => Item(priority, due) with { UniqueKey = "conformance.task:" + key, UniqueFor = uniqueFor ?? TimeSpan.FromMinutes(10) };
}

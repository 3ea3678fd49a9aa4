using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Store;

namespace TypedTasks.Tests.Store;

/// <summary>The in-memory store's limits on its own clock: the exact end of a rate window, and the safety net that re-counts a concurrency limit.</summary>
public sealed class InMemoryTaskStoreLimitTests
{
    private const string Queue = "default";
    private static readonly byte[] Body = [0x91, 0x01];

    [Fact]
    public async Task A_rate_window_frees_a_start_exactly_when_the_oldest_start_in_it_is_one_window_old()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryTaskStore(timeProvider: time);
        var per = TimeSpan.FromSeconds(10);
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 4).Select(_ => Limited(new TaskLimit("t", 2, per)))]);
        var start = time.GetUtcNow();
        var leases = await store.FetchAsync([Queue], 10, CancellationToken.None);
        Assert.Equal(ids.Take(2), leases.Select(l => l.Id));

        // A rate counts starts, not runs: a run that ends gives nothing back.
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(await store.CompleteAsync(leases[0], TaskCompletion.Succeeded(default)));
        Assert.Equal(start + per, await store.PromoteDueAsync([Queue]));
        time.Advance(per - TimeSpan.FromSeconds(4) - TimeSpan.FromTicks(1));
        Assert.Equal(start + per, await store.PromoteDueAsync([Queue]));
        Assert.Equal(2, (await store.CountAsync(Queue)).Held);

        // Both starts leave the window at once: both held tasks go.
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(await store.PromoteDueAsync([Queue]));
        Assert.Equal(0, (await store.CountAsync(Queue)).Held);
        Assert.Equal(ids.Skip(2), (await store.FetchAsync([Queue], 10, CancellationToken.None)).Select(l => l.Id));
        var limit = Assert.Single(await store.GetLimitsAsync(Queue, 10));
        Assert.Equal(new StoredLimit("t", 2, per, 2, 0), limit);

        time.Advance(per);
        Assert.Empty(await store.GetLimitsAsync(Queue, 10));
    }

    [Fact]
    public async Task A_concurrency_limit_that_holds_tasks_is_re_counted_every_30_seconds_by_promotion()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryTaskStore(timeProvider: time, options: new() { LeaseDuration = TimeSpan.FromMinutes(5) });
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 4).Select(_ => Limited(new TaskLimit("t", 2)))]);
        var start = time.GetUtcNow();
        var leases = await store.FetchAsync([Queue], 10, CancellationToken.None);
        Assert.Equal(ids.Take(2), leases.Select(l => l.Id));

        // The task a run's end let go is canceled before it starts: its slot stays free, and the
        // task behind it waits for the other run's end or for the safety net.
        Assert.True(await store.CompleteAsync(leases[0], TaskCompletion.Succeeded(default)));
        Assert.True(await store.CancelAsync(ids[2]));
        Assert.Equal(start + TimeSpan.FromSeconds(30), await store.PromoteDueAsync([Queue]));
        time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
        Assert.Equal(start + TimeSpan.FromSeconds(30), await store.PromoteDueAsync([Queue]));
        Assert.Equal(1, (await store.CountAsync(Queue)).Held);

        time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(await store.PromoteDueAsync([Queue]));
        Assert.Equal(0, (await store.CountAsync(Queue)).Held);
        Assert.Equal([ids[3]], (await store.FetchAsync([Queue], 10, CancellationToken.None)).Select(l => l.Id));
        Assert.Equal(new StoredLimit("t", 2, null, 2, 0), Assert.Single(await store.GetLimitsAsync(Queue, 10)));
    }

    [Fact]
    public async Task Limit_and_lock_reads_refuse_a_max_below_one_and_a_limit_without_a_key()
    {
        await using var store = new InMemoryTaskStore();
        Assert.Equal("max", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetLimitsAsync(Queue, 0).AsTask())).ParamName);
        Assert.Equal("max", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetLocksAsync(Queue, 0).AsTask())).ParamName);
        Assert.Equal("limit", (await Assert.ThrowsAsync<ArgumentException>(() => store.ListHeldAsync(Queue, new TaskLimit("", 1), 0, 10).AsTask())).ParamName);
        Assert.Equal("offset", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ListHeldAsync(Queue, new TaskLimit("t", 1), -1, 10).AsTask())).ParamName);
    }

    private static TaskToEnqueue Limited(TaskLimit limit) => new(Body, 0) { Limits = [limit] };
}

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Store;

namespace TypedTasks.Tests.Store;

/// <summary>What the in-memory store does beyond the conformance suite: its defaults, its settings, and its clock.</summary>
public sealed class InMemoryTaskStoreTests
{
    private const string Queue = "default";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly byte[] Body = [0x91, 0x01];

    [Fact]
    public async Task A_store_made_with_no_arguments_runs_a_task_through()
    {
        await using var store = new InMemoryTaskStore();
        Assert.Equal(TimeSpan.FromSeconds(10), store.HeartbeatInterval);
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0));
        var lease = Assert.Single(await store.FetchAsync([Queue], 1, CancellationToken.None));
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 3 })));
        var info = await store.WaitAsync(id, TimeSpan.FromSeconds(5));
        Assert.Equal((TaskState.Succeeded, 3), (info.State, (int)info.Result.Span[0]));
    }

    [Fact]
    public void Settings_that_cannot_work_are_refused_with_their_name()
    {
        Assert.Equal("resultTtl", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTaskStore(TimeSpan.Zero)).ParamName);
        Assert.Equal("options.LeaseDuration", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTaskStore(options: new() { LeaseDuration = TimeSpan.Zero })).ParamName);
        Assert.Equal("options.IdleFetchInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTaskStore(options: new() { IdleFetchInterval = TimeSpan.FromSeconds(-1) })).ParamName);
        Assert.Equal("options.WorkerTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTaskStore(options: new() { WorkerTimeout = TimeSpan.Zero })).ParamName);
        Assert.Equal("options.RecentIndexSize", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTaskStore(options: new() { RecentIndexSize = 0 })).ParamName);
        Assert.Equal("options.FailedIndexSize", Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryTaskStore(options: new() { FailedIndexSize = -5 })).ParamName);
    }

    [Fact]
    public async Task A_fetch_needs_a_queue_and_a_positive_max()
    {
        await using var store = new InMemoryTaskStore();
        var none = await Assert.ThrowsAsync<ArgumentException>(() => store.FetchAsync([], 1, CancellationToken.None).AsTask());
        Assert.Contains("at least one queue", none.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.FetchAsync([Queue], 0, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Leases_end_on_the_store_clock()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryTaskStore(timeProvider: time, options: new() { LeaseDuration = TimeSpan.FromSeconds(30) });
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0));
        var lease = Assert.Single(await store.FetchAsync([Queue], 1, CancellationToken.None));
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(30), Assert.Single(await store.ListAsync(Queue, TaskState.Started, 0, 1)).DueAt);

        time.Advance(TimeSpan.FromSeconds(20));
        await store.HeartbeatAsync(new Transport.WorkerDescription([Queue], 1, new WorkerStatus()), [lease]);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await store.RecoverAsync([Queue]));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await store.RecoverAsync([Queue]));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task Final_records_expire_on_the_store_clock_and_waiting_ones_never()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryTaskStore(TimeSpan.FromHours(1), time);
        var done = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0));
        var lease = Assert.Single(await store.FetchAsync([Queue], 1, CancellationToken.None));
        var waiting = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0));
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));

        time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        Assert.NotNull(await store.GetAsync(done));
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(await store.GetAsync(done));
        Assert.Empty(await store.ListAsync(Queue, TaskState.Failed, 0, 10));
        Assert.Equal(0, (await store.CountAsync(Queue)).Failed);

        time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(waiting))!.State);
    }

    [Fact]
    public async Task Due_times_follow_the_store_clock()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryTaskStore(timeProvider: time);
        var due = time.GetUtcNow().AddHours(1);
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0, due));
        Assert.Equal(due, await store.PromoteDueAsync([Queue]));

        time.Advance(TimeSpan.FromHours(1));
        Assert.Null(await store.PromoteDueAsync([Queue]));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task Waits_and_idle_fetches_end_on_the_store_clock()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryTaskStore(timeProvider: time, options: new() { IdleFetchInterval = TimeSpan.FromSeconds(5) });
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0, time.GetUtcNow().AddHours(1)));
        var waiting = store.WaitAsync(id, TimeSpan.FromSeconds(10)).AsTask();
        var fetching = store.FetchAsync([Queue], 1, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted || fetching.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(await fetching.WaitAsync(Bound));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(Bound));
        Assert.Contains(id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disposed_store_ends_waiting_fetches_and_waits_and_refuses_every_call()
    {
        var store = new InMemoryTaskStore(options: new() { IdleFetchInterval = TimeSpan.FromMinutes(5) });
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0, DateTimeOffset.UtcNow.AddHours(1)));
        var fetching = store.FetchAsync([Queue], 1, CancellationToken.None).AsTask();
        var waiting = store.WaitAsync(id, Timeout.InfiniteTimeSpan).AsTask();
        await Task.Delay(50);

        await store.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => fetching.WaitAsync(Bound));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(Bound));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0)).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetAsync(id).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.PingAsync().AsTask());
        await store.DisposeAsync();
    }

    [Fact]
    public async Task A_chosen_id_that_looks_like_a_made_one_is_never_made_again()
    {
        await using var store = new InMemoryTaskStore();
        var chosen = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0, ChosenId: "1"));
        var made = await store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0));
        Assert.NotEqual(chosen, made);
        Assert.Equal(2, (await store.CountAsync(Queue)).Pending);

        var empty = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, new TaskToEnqueue(Body, 0, ChosenId: "")).AsTask());
        Assert.Contains("empty chosen id", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fifty_thousand_waiters_on_distinct_tasks_each_get_their_own_task()
    {
        await using var store = new InMemoryTaskStore();
        var ids = await store.EnqueueManyAsync(Queue, Enumerable.Range(0, 50_000).Select(_ => new TaskToEnqueue(Body, 0)).ToList());
        var waiters = ids.Select(id => store.WaitAsync(id, TimeSpan.FromMinutes(5)).AsTask()).ToList();
        while (true)
        {
            var leases = await store.FetchAsync([Queue], 1_000, CancellationToken.None);
            if (leases.Count == 0)
            {
                break;
            }

            foreach (var lease in leases)
            {
                Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(System.Text.Encoding.UTF8.GetBytes(lease.Id))));
            }
        }

        var infos = await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(infos.Zip(ids), pair => Assert.Equal(pair.Second, System.Text.Encoding.UTF8.GetString(pair.First.Result.Span)));
    }
}

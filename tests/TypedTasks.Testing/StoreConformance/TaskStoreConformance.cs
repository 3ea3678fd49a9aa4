using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Metrics;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Transport;
using TypedTasks.Worker;
using Xunit;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// The behaviour every <see cref="ITaskStore"/> shares (docs: the store semantics), one fact per
/// rule. A store's test class derives from this and says how to make a fresh, empty store.
/// Waits are bounded; durations that must pass (leases, TTLs) are a few hundred milliseconds of
/// real time, since a store on a server reads the clock where it runs.
/// </summary>
public abstract class TaskStoreConformance : IAsyncLifetime
{
    private const string Queue = "conformance";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly List<ITaskStore> _stores = [];

    /// <summary>
    /// A new store that holds nothing (a fresh in-memory store, or one on a flushed server),
    /// honouring every value of <paramref name="settings"/>. Each fact calls it once.
    /// </summary>
    protected abstract Task<ITaskStore> CreateStoreAsync(StoreSettings settings);

    /// <summary>Runs after every store of the test is disposed: stop what <see cref="CreateStoreAsync"/> started.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await CleanUpAsync();
    }

    // ---- Enqueue ----

    [Fact]
    public async Task Enqueue_stores_a_pending_task_that_reads_back_by_its_id()
    {
        var store = await StoreAsync();
        var envelope = Envelope("conformance.add");
        var before = DateTimeOffset.UtcNow;
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(envelope, 3));

        var info = await store.GetAsync(id);
        Assert.NotNull(info);
        Assert.Equal(id, info.Id);
        Assert.Equal("conformance.add", info.TaskName);
        Assert.Equal(TaskState.Pending, info.State);
        Assert.Equal(0, info.Attempt);
        Assert.Equal(Queue, info.Queue);
        Assert.Null(info.Worker);
        Assert.Null(info.Error);
        Assert.True(info.Result.IsEmpty);
        Assert.InRange(info.UpdatedAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        var stored = await store.GetStoredAsync(id);
        Assert.NotNull(stored);
        Assert.Equal(envelope, stored.Envelope.ToArray());
        Assert.Equal(3, stored.Priority);
        Assert.Null(stored.DueAt);
        Assert.Equal(1, (await store.CountAsync(Queue)).Pending);
    }

    [Fact]
    public async Task An_unreadable_envelope_is_stored_and_shown_with_the_task_name_as_a_question_mark()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(new byte[] { 0xc1, 1, 2 }, 0));
        Assert.Equal("?", (await store.GetAsync(id))!.TaskName);
    }

    [Fact]
    public async Task Enqueue_with_a_future_due_time_stores_a_scheduled_task_and_a_past_one_a_pending_task()
    {
        var store = await StoreAsync();
        var due = Now().AddHours(1);
        var later = await store.EnqueueAsync(Queue, Item(due: due));
        var now = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(-1)));

        Assert.Equal(TaskState.Scheduled, (await store.GetAsync(later))!.State);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(now))!.State);
        var counts = await store.CountAsync(Queue);
        Assert.Equal((1, 1), (counts.Scheduled, counts.Pending));
        var listed = Assert.Single(await store.ListAsync(Queue, TaskState.Scheduled, 0, 10));
        Assert.Equal(later, listed.Info.Id);
        Assert.Equal(due, listed.DueAt);
    }

    [Fact]
    public async Task EnqueueMany_returns_the_ids_in_order_and_stores_every_task_pending_in_that_order()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item(), Item(), Item(due: Now().AddHours(1))]);

        Assert.Equal(4, ids.Count);
        Assert.Equal(4, ids.Distinct().Count());
        Assert.Equal(ids.Take(3), (await store.ListAsync(Queue, TaskState.Pending, 0, 10)).Select(t => t.Info.Id));
        Assert.Equal(TaskState.Scheduled, (await store.GetAsync(ids[3]))!.State);
        Assert.Empty(await store.EnqueueManyAsync(Queue, []));
    }

    [Fact]
    public async Task A_chosen_id_enqueues_once_per_queue_whatever_the_task_became()
    {
        var store = await StoreAsync();
        var first = await store.EnqueueAsync(Queue, Item(chosen: "order-17"));
        var again = await store.EnqueueAsync(Queue, Item(priority: 9, chosen: "order-17"));
        Assert.Equal(first, again);
        Assert.Equal(1, (await store.CountAsync(Queue)).Pending);

        var lease = await FetchOneAsync(store, Queue);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal(first, await store.EnqueueAsync(Queue, Item(chosen: "order-17")));
        Assert.Equal(0, (await store.CountAsync(Queue)).Pending);

        var elsewhere = await store.EnqueueAsync("conformance-other", Item(chosen: "order-17"));
        Assert.NotEqual(first, elsewhere);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(elsewhere))!.State);
    }

    [Fact]
    public async Task A_chosen_id_twice_in_one_batch_stores_one_task_and_returns_its_id_twice()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(chosen: "twice"), Item(), Item(chosen: "twice")]);
        Assert.Equal(ids[0], ids[2]);
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Equal(2, (await store.CountAsync(Queue)).Pending);
    }

    [Fact]
    public async Task Enqueue_rejects_a_bad_queue_priority_or_envelope_and_stores_nothing()
    {
        var store = await StoreAsync();
        foreach (var queue in new[] { "", "two words", "{braced}", new string('q', 201) })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(queue, Item()).AsTask());
            Assert.Contains("is not a valid queue name", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueManyAsync(queue, [Item()]).AsTask());
        }

        foreach (var priority in new[] { -1, TaskDefaults.MaxPriority + 1 })
        {
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.EnqueueAsync(Queue, Item(priority: priority)).AsTask());
            Assert.Contains("priority", error.Message, StringComparison.OrdinalIgnoreCase);
        }

        var empty = await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, new TaskToEnqueue(ReadOnlyMemory<byte>.Empty, 0)).AsTask());
        Assert.Contains("envelope", empty.Message, StringComparison.OrdinalIgnoreCase);

        // One bad task in a batch: none of the batch is stored, not even the good ones before it.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.EnqueueManyAsync(Queue, [Item(chosen: "good"), Item(), Item(priority: 42)]).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueManyAsync(Queue, [Item(), new TaskToEnqueue(ReadOnlyMemory<byte>.Empty, 0)]).AsTask());

        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 0, 0), await store.CountAsync(Queue));
        Assert.Empty(await store.GetQueuesAsync());
        var good = await store.EnqueueAsync(Queue, Item(chosen: "good"));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(good))!.State);
        Assert.Equal(1, (await store.CountAsync(Queue)).Pending);
    }

    // ---- Fetch ----

    [Fact]
    public async Task Fetch_takes_the_highest_priority_first_and_the_oldest_first_within_one()
    {
        var store = await StoreAsync();
        var a = await store.EnqueueAsync(Queue, Item(priority: 0));
        var b = await store.EnqueueAsync(Queue, Item(priority: 5));
        var c = await store.EnqueueAsync(Queue, Item(priority: 0));
        var d = await store.EnqueueAsync(Queue, Item(priority: 9));
        var e = await store.EnqueueAsync(Queue, Item(priority: 5));

        var leases = await store.FetchAsync([Queue], 10, CancellationToken.None);
        Assert.Equal([d, b, e, a, c], leases.Select(l => l.Id));
        Assert.Equal([9, 5, 5, 0, 0], leases.Select(l => l.Priority));
    }

    [Fact]
    public async Task Fetch_takes_at_most_max_tasks_and_the_queues_in_the_order_given()
    {
        var store = await StoreAsync();
        var low = await store.EnqueueAsync("conformance-a", Item(priority: 0));
        var high1 = await store.EnqueueAsync("conformance-b", Item(priority: 9));
        var high2 = await store.EnqueueAsync("conformance-b", Item(priority: 9));

        var one = await store.FetchAsync(["conformance-a", "conformance-b"], 1, CancellationToken.None);
        Assert.Equal([low], one.Select(l => l.Id));
        Assert.Equal("conformance-a", one[0].Queue);

        var next = await store.FetchAsync(["conformance-a", "conformance-b"], 1, CancellationToken.None);
        Assert.Equal([high1], next.Select(l => l.Id));
        Assert.Equal(1, (await store.CountAsync("conformance-b")).Pending);
        Assert.Equal([high2], (await store.FetchAsync(["conformance-b", "conformance-a"], 5, CancellationToken.None)).Select(l => l.Id));
    }

    [Fact]
    public async Task Fetch_starts_each_task_with_attempt_1_this_worker_and_a_lease()
    {
        var store = await StoreAsync();
        var envelope = Envelope("conformance.start");
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(envelope, 4));
        var before = DateTimeOffset.UtcNow;

        var lease = await FetchOneAsync(store, Queue);
        Assert.Equal(id, lease.Id);
        Assert.Equal(Queue, lease.Queue);
        Assert.Equal(1, lease.Attempt);
        Assert.Equal(4, lease.Priority);
        Assert.Equal(envelope, lease.Envelope.ToArray());
        Assert.True(lease.Fence > 0, $"fence {lease.Fence}");

        var info = (await store.GetAsync(id))!;
        Assert.Equal(TaskState.Started, info.State);
        Assert.Equal(1, info.Attempt);
        Assert.Equal(WorkerIdentity.Name, info.Worker);
        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 1L), (counts.Pending, counts.Started));
        var running = Assert.Single(await store.ListAsync(Queue, TaskState.Started, 0, 10));
        Assert.Equal(id, running.Info.Id);
        Assert.NotNull(running.DueAt);
        Assert.InRange(running.DueAt.Value, before + StoreSettings.Default.LeaseDuration - TimeSpan.FromSeconds(1), DateTimeOffset.UtcNow + StoreSettings.Default.LeaseDuration + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Fetch_on_empty_queues_returns_empty_after_the_idle_interval()
    {
        var store = await StoreAsync();
        Assert.Empty(await store.FetchAsync([Queue, "conformance-other"], 5, CancellationToken.None).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task A_waiting_fetch_stops_when_its_token_is_canceled()
    {
        var store = await StoreAsync(StoreSettings.Default with { IdleFetchInterval = TimeSpan.FromMinutes(5) });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.FetchAsync([Queue], 5, cancel.Token).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task A_waiting_fetch_wakes_when_a_task_is_enqueued()
    {
        var store = await StoreAsync(StoreSettings.Default with { IdleFetchInterval = TimeSpan.FromMinutes(5) });
        var fetching = store.FetchAsync(["conformance-idle", Queue], 5, CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(fetching.IsCompleted);

        var id = await store.EnqueueAsync(Queue, Item());
        var leases = await fetching.WaitAsync(Bound);
        Assert.Equal([id], leases.Select(l => l.Id));
    }

    [Fact]
    public async Task A_waiting_fetch_wakes_when_a_task_is_released_recovered_promoted_or_requeued()
    {
        var store = await StoreAsync(StoreSettings.Default with { IdleFetchInterval = TimeSpan.FromMinutes(5), LeaseDuration = TimeSpan.FromMilliseconds(300) });
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);

        // Released: a stopping worker's task goes to a waiting one at once.
        var fetching = store.FetchAsync([Queue], 5, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Released()));
        lease = Assert.Single(await fetching.WaitAsync(Bound));
        Assert.Equal(id, lease.Id);

        // Recovered.
        fetching = store.FetchAsync([Queue], 5, CancellationToken.None).AsTask();
        await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 1, "the expired lease is recovered", Bound);
        lease = Assert.Single(await fetching.WaitAsync(Bound));
        Assert.Equal(id, lease.Id);

        // Requeued.
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));
        fetching = store.FetchAsync([Queue], 5, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.Equal(1, await store.RequeueAsync([id]));
        Assert.Equal([id], (await fetching.WaitAsync(Bound)).Select(l => l.Id));

        // Promoted.
        var scheduled = await store.EnqueueAsync(Queue, Item(due: Now().AddMilliseconds(200)));
        fetching = store.FetchAsync([Queue], 5, CancellationToken.None).AsTask();
        await Poll.UntilAsync(async () => await store.PromoteDueAsync([Queue]) is null, "the scheduled task is promoted", Bound);
        Assert.Equal([scheduled], (await fetching.WaitAsync(Bound)).Select(l => l.Id));
    }

    [Fact]
    public async Task Concurrent_fetches_start_each_task_once()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, Enumerable.Range(0, 200).Select(_ => Item()).ToList());
        var seen = new ConcurrentBag<string>();
        var fetchers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var leases = await store.FetchAsync([Queue], 7, CancellationToken.None);
                if (leases.Count == 0)
                {
                    return;
                }

                foreach (var lease in leases)
                {
                    seen.Add(lease.Id);
                }
            }
        }));
        await Task.WhenAll(fetchers).WaitAsync(Bound);
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    // ---- Complete ----

    [Fact]
    public async Task Succeeded_stores_the_result_drops_the_envelope_and_moves_the_task_to_the_succeeded_index()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 7, 8 })));
        var info = (await store.GetAsync(id))!;
        Assert.Equal(TaskState.Succeeded, info.State);
        Assert.Equal(new byte[] { 7, 8 }, info.Result.ToArray());
        Assert.Equal(1, info.Attempt);
        Assert.Equal(WorkerIdentity.Name, info.Worker);
        Assert.Equal("conformance.task", info.TaskName);
        Assert.True((await store.GetStoredAsync(id))!.Envelope.IsEmpty);

        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 1L), (counts.Started, counts.Succeeded));
        Assert.Empty(await store.ListAsync(Queue, TaskState.Started, 0, 10));
        Assert.Equal([id], (await store.ListAsync(Queue, TaskState.Succeeded, 0, 10)).Select(t => t.Info.Id));
    }

    [Fact]
    public async Task Failed_keeps_the_error_and_the_envelope_in_the_failed_index()
    {
        var store = await StoreAsync();
        var envelope = Envelope();
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(envelope, 0));
        var lease = await FetchOneAsync(store, Queue);
        var error = new TaskError("System.InvalidOperationException", "broken", "at Somewhere()");

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(error)));
        var stored = (await store.GetStoredAsync(id))!;
        Assert.Equal(TaskState.Failed, stored.Info.State);
        Assert.Equal(error, stored.Info.Error);
        Assert.Equal(envelope, stored.Envelope.ToArray());
        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 1L), (counts.Started, counts.Failed));
        Assert.Equal([id], (await store.ListAsync(Queue, TaskState.Failed, 0, 10)).Select(t => t.Info.Id));
    }

    [Fact]
    public async Task Retry_keeps_the_error_and_waits_in_the_retrying_index_until_its_time()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);
        var error = new TaskError("System.TimeoutException", "slow", null);
        var at = Now().AddHours(1);

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Retry(error, at)));
        var info = (await store.GetAsync(id))!;
        Assert.Equal(TaskState.Retrying, info.State);
        Assert.Equal(error, info.Error);
        Assert.Equal(1, info.Attempt);
        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 1L), (counts.Started, counts.Retrying));
        var listed = Assert.Single(await store.ListAsync(Queue, TaskState.Retrying, 0, 10));
        Assert.Equal(at, listed.DueAt);
        Assert.False(listed.Envelope.IsEmpty);
        Assert.Equal(at, await store.PromoteDueAsync([Queue]));
    }

    [Fact]
    public async Task Expired_ends_the_task_in_the_expired_index()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Expired()));
        Assert.Equal(TaskState.Expired, (await store.GetAsync(id))!.State);
        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 1L), (counts.Started, counts.Expired));
        Assert.Equal([id], (await store.ListAsync(Queue, TaskState.Expired, 0, 10)).Select(t => t.Info.Id));
    }

    [Fact]
    public async Task Released_puts_the_task_back_at_the_head_without_counting_the_run()
    {
        var store = await StoreAsync();
        var first = await store.EnqueueAsync(Queue, Item());
        var second = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);
        Assert.Equal(first, lease.Id);

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Released()));
        var info = (await store.GetAsync(first))!;
        Assert.Equal((TaskState.Pending, 0), (info.State, info.Attempt));
        Assert.Equal([first, second], (await store.ListAsync(Queue, TaskState.Pending, 0, 10)).Select(t => t.Info.Id));

        var again = await store.FetchAsync([Queue], 2, CancellationToken.None);
        Assert.Equal([first, second], again.Select(l => l.Id));
        Assert.Equal(1, again[0].Attempt);
        Assert.True(again[0].Fence > lease.Fence);
        Assert.False(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        Assert.Equal(TaskState.Started, (await store.GetAsync(first))!.State);
    }

    [Fact]
    public async Task A_lease_settles_once()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "first", null))));
        Assert.False(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.False(await store.CompleteAsync(lease, TaskCompletion.Released()));
        var info = (await store.GetAsync(id))!;
        Assert.Equal((TaskState.Failed, "first"), (info.State, info.Error!.Message));
        Assert.Equal(1, (await store.CountAsync(Queue)).Failed);
    }

    [Fact]
    public async Task A_lease_of_a_task_that_was_recovered_and_fetched_again_settles_nothing()
    {
        var store = await StoreAsync(StoreSettings.Default with { LeaseDuration = TimeSpan.FromMilliseconds(300) });
        var id = await store.EnqueueAsync(Queue, Item());
        var lost = await FetchOneAsync(store, Queue);
        await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 1, "the expired lease is recovered", Bound);

        Assert.False(await store.CompleteAsync(lost, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(id))!.State);

        var current = await FetchOneAsync(store, Queue);
        Assert.Equal(id, current.Id);
        Assert.True(current.Fence > lost.Fence);
        Assert.False(await store.CompleteAsync(lost, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal(TaskState.Started, (await store.GetAsync(id))!.State);
        Assert.True(await store.CompleteAsync(current, TaskCompletion.Succeeded(new byte[] { 2 })));
        Assert.Equal(new byte[] { 2 }, (await store.GetAsync(id))!.Result.ToArray());
    }

    [Fact]
    public async Task A_task_canceled_while_it_runs_stays_canceled_whatever_its_run_reports()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item(), Item()]);
        var leases = await store.FetchAsync([Queue], 3, CancellationToken.None);
        Assert.Equal(ids, leases.Select(l => l.Id));
        foreach (var id in ids)
        {
            Assert.True(await store.CancelAsync(id));
            var info = (await store.GetAsync(id))!;
            Assert.Equal((TaskState.Canceled, 1), (info.State, info.Attempt));
        }

        Assert.Equal(3, (await store.CountAsync(Queue)).Started);
        Assert.True(await store.CompleteAsync(leases[0], TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.True(await store.CompleteAsync(leases[1], TaskCompletion.Canceled()));
        Assert.True(await store.CompleteAsync(leases[2], TaskCompletion.Released()));

        foreach (var id in ids)
        {
            var info = (await store.GetAsync(id))!;
            Assert.Equal(TaskState.Canceled, info.State);
            Assert.True(info.Result.IsEmpty);
        }

        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 0L, 3L, 0L), (counts.Started, counts.Pending, counts.Canceled, counts.Succeeded));
        Assert.Empty(await store.ListAsync(Queue, TaskState.Started, 0, 10));
        Assert.False(await store.CompleteAsync(leases[0], TaskCompletion.Succeeded(default)));
    }

    // ---- Leases: recover and heartbeat ----

    [Fact]
    public async Task Recover_puts_tasks_with_expired_leases_back_at_the_head_without_counting_the_lost_run()
    {
        var store = await StoreAsync(StoreSettings.Default with { LeaseDuration = TimeSpan.FromMilliseconds(300) });
        var first = await store.EnqueueAsync(Queue, Item());
        var second = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);
        Assert.Equal(first, lease.Id);

        Assert.Equal(0, await store.RecoverAsync(["conformance-other"]));
        await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 1, "the expired lease is recovered", Bound);
        Assert.Equal(0, await store.RecoverAsync([Queue]));

        var info = (await store.GetAsync(first))!;
        Assert.Equal((TaskState.Pending, 0), (info.State, info.Attempt));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((2L, 0L), (counts.Pending, counts.Started));
        var again = await store.FetchAsync([Queue], 2, CancellationToken.None);
        Assert.Equal([first, second], again.Select(l => l.Id));
        Assert.Equal([1, 1], again.Select(l => l.Attempt));
    }

    [Fact]
    public async Task A_task_canceled_while_its_worker_was_lost_is_not_recovered_and_ends_canceled()
    {
        var store = await StoreAsync(StoreSettings.Default with { LeaseDuration = TimeSpan.FromMilliseconds(300) });
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);
        Assert.True(await store.CancelAsync(id));

        await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 0 && (await store.CountAsync(Queue)).Started == 0, "the lease of the canceled task is dropped", Bound);
        Assert.Equal(TaskState.Canceled, (await store.GetAsync(id))!.State);
        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 1, 0), await store.CountAsync(Queue));
        Assert.Empty(await store.FetchAsync([Queue], 5, CancellationToken.None));
        Assert.False(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
    }

    [Fact]
    public async Task A_heartbeat_renews_the_leases_it_names()
    {
        var lease = TimeSpan.FromSeconds(1);
        var store = await StoreAsync(StoreSettings.Default with { LeaseDuration = lease });
        var kept = await store.EnqueueAsync(Queue, Item());
        var dropped = await store.EnqueueAsync(Queue, Item());
        var leases = await store.FetchAsync([Queue], 2, CancellationToken.None);
        Assert.Equal([kept, dropped], leases.Select(l => l.Id));

        // Renewed every 100 ms for two and a half lease durations: the renewed one never expires.
        var until = Stopwatch.StartNew();
        var recovered = new List<string>();
        while (until.Elapsed < lease * 2.5)
        {
            await store.HeartbeatAsync(Describe(Queue), [leases[0]]);
            if (await store.RecoverAsync([Queue]) > 0)
            {
                recovered.AddRange((await store.ListAsync(Queue, TaskState.Pending, 0, 10)).Select(t => t.Info.Id));
            }

            await Task.Delay(100);
        }

        Assert.Equal([dropped], recovered);
        Assert.Equal(TaskState.Started, (await store.GetAsync(kept))!.State);
        await Poll.UntilAsync(async () => await store.RecoverAsync([Queue]) == 1, "the lease no longer renewed is recovered", Bound);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(kept))!.State);
        Assert.True(store.HeartbeatInterval > TimeSpan.Zero && store.HeartbeatInterval < lease);
    }

    // ---- Promote ----

    [Fact]
    public async Task PromoteDue_moves_due_scheduled_and_retrying_tasks_to_the_tail_of_pending_and_returns_the_next_due_time()
    {
        var store = await StoreAsync();
        Assert.Null(await store.PromoteDueAsync([Queue]));

        var soon = Now().AddMilliseconds(300);
        var later = Now().AddHours(1);
        var waiting = await store.EnqueueAsync(Queue, Item());
        var scheduled = await store.EnqueueAsync(Queue, Item(priority: 0, due: soon));
        var distant = await store.EnqueueAsync(Queue, Item(due: later));
        var retried = await store.EnqueueAsync("conformance-other", Item());
        var lease = await FetchOneAsync(store, "conformance-other");
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Retry(new TaskError("E", "again", null), soon)));

        Assert.Equal(soon, await store.PromoteDueAsync([Queue, "conformance-other"]));
        await Poll.UntilAsync(async () => await store.PromoteDueAsync([Queue, "conformance-other"]) == later, "the due tasks are promoted", Bound);

        Assert.Equal(TaskState.Pending, (await store.GetAsync(scheduled))!.State);
        Assert.Equal(TaskState.Scheduled, (await store.GetAsync(distant))!.State);
        var promoted = (await store.GetAsync(retried))!;
        Assert.Equal((TaskState.Pending, 1), (promoted.State, promoted.Attempt));
        Assert.Equal([waiting, scheduled], (await store.ListAsync(Queue, TaskState.Pending, 0, 10)).Select(t => t.Info.Id));
        var counts = await store.CountAsync(Queue);
        Assert.Equal((2L, 1L), (counts.Pending, counts.Scheduled));
        Assert.Equal(0, (await store.CountAsync("conformance-other")).Retrying);

        var rerun = await FetchOneAsync(store, "conformance-other");
        Assert.Equal((retried, 2), (rerun.Id, rerun.Attempt));
    }

    // ---- Cancel ----

    [Fact]
    public async Task Cancel_ends_a_pending_scheduled_or_retrying_task_which_then_never_runs()
    {
        var store = await StoreAsync();
        var pending = await store.EnqueueAsync(Queue, Item());
        var scheduled = await store.EnqueueAsync(Queue, Item(due: Now().AddMilliseconds(100)));
        var retrying = await store.EnqueueAsync("conformance-other", Item());
        var lease = await FetchOneAsync(store, "conformance-other");
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Retry(new TaskError("E", "again", null), Now().AddMilliseconds(100))));

        foreach (var id in new[] { pending, scheduled, retrying })
        {
            Assert.True(await store.CancelAsync(id));
            Assert.False(await store.CancelAsync(id));
            Assert.Equal(TaskState.Canceled, (await store.GetAsync(id))!.State);
        }

        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 2, 0), await store.CountAsync(Queue));
        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 1, 0), await store.CountAsync("conformance-other"));
        Assert.Equal(0, (await store.GetAsync(pending))!.Attempt);
        Assert.Equal([scheduled, pending], (await store.ListAsync(Queue, TaskState.Canceled, 0, 10)).Select(t => t.Info.Id));

        await Task.Delay(150);
        Assert.Null(await store.PromoteDueAsync([Queue, "conformance-other"]));
        Assert.Empty(await store.FetchAsync([Queue, "conformance-other"], 10, CancellationToken.None));
    }

    [Fact]
    public async Task Cancel_of_a_final_or_unknown_task_returns_false_and_changes_nothing()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        var lease = await FetchOneAsync(store, Queue);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 5 })));

        Assert.False(await store.CancelAsync(id));
        Assert.Equal(TaskState.Succeeded, (await store.GetAsync(id))!.State);
        Assert.Equal(0, (await store.CountAsync(Queue)).Canceled);
        Assert.False(await store.CancelAsync("never-enqueued@" + Queue));
        Assert.False(await store.CancelAsync("not an id"));
    }

    [Fact]
    public async Task Watchers_hear_of_every_running_task_canceled_until_they_stop_watching()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item()]);
        await store.FetchAsync([Queue], 2, CancellationToken.None);
        var heard = new ConcurrentQueue<string>();
        var also = new ConcurrentQueue<string>();
        var watcher = await store.WatchCancellationsAsync(heard.Enqueue);
        await using (await store.WatchCancellationsAsync(also.Enqueue))
        {
            Assert.True(await store.CancelAsync(ids[0]));
            await Poll.UntilAsync(() => Task.FromResult(heard.Contains(ids[0]) && also.Contains(ids[0])), "both watchers hear of the cancellation", Bound);
        }

        Assert.True(await store.CancelAsync(ids[1]));
        await Poll.UntilAsync(() => Task.FromResult(heard.Contains(ids[1])), "the remaining watcher hears of the second cancellation", Bound);
        Assert.DoesNotContain(ids[1], also);
        await watcher.DisposeAsync();
    }

    // ---- Wait ----

    [Fact]
    public async Task Wait_returns_a_final_task_at_once()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        Assert.True(await store.CancelAsync(id));
        var info = await store.WaitAsync(id, TimeSpan.FromSeconds(1)).AsTask().WaitAsync(Bound);
        Assert.Equal(TaskState.Canceled, info.State);
    }

    [Fact]
    public async Task Wait_throws_a_timeout_when_the_task_does_not_end_in_time()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        await Assert.ThrowsAsync<TimeoutException>(() => store.WaitAsync(id, TimeSpan.FromMilliseconds(200)).AsTask().WaitAsync(Bound));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task Wait_on_an_id_with_nothing_stored_throws_task_not_found()
    {
        var store = await StoreAsync();
        foreach (var id in new[] { "never-enqueued@" + Queue, "not an id", "" })
        {
            var error = await Assert.ThrowsAsync<TaskNotFoundException>(() => store.WaitAsync(id, TimeSpan.FromSeconds(30)).AsTask().WaitAsync(Bound));
            Assert.Equal(id, error.TaskId);
        }
    }

    [Fact]
    public async Task Wait_stops_when_its_token_is_canceled()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.WaitAsync(id, TimeSpan.FromMinutes(5), cancel.Token).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task Waiters_are_woken_by_the_completion_long_before_their_timeout()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        var waiters = Enumerable.Range(0, 50).Select(_ => store.WaitAsync(id, TimeSpan.FromMinutes(5)).AsTask()).ToList();
        await Task.Delay(100);
        Assert.DoesNotContain(waiters, w => w.IsCompleted);

        var lease = await FetchOneAsync(store, Queue);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 9 })));
        var infos = await Task.WhenAll(waiters).WaitAsync(Bound);
        Assert.All(infos, info => Assert.Equal((TaskState.Succeeded, 9), (info.State, (int)info.Result.Span[0])));
    }

    [Fact]
    public async Task A_waiter_is_woken_by_a_cancel_and_by_a_failure()
    {
        var store = await StoreAsync();
        var canceled = await store.EnqueueAsync(Queue, Item());
        var failed = await store.EnqueueAsync("conformance-other", Item());
        var onCanceled = store.WaitAsync(canceled, TimeSpan.FromMinutes(5)).AsTask();
        var onFailed = store.WaitAsync(failed, TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(50);

        Assert.True(await store.CancelAsync(canceled));
        Assert.Equal(TaskState.Canceled, (await onCanceled.WaitAsync(Bound)).State);
        Assert.False(onFailed.IsCompleted);

        var lease = await FetchOneAsync(store, "conformance-other");
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Retry(new TaskError("E", "once", null), Now())));
        await Task.Delay(50);
        Assert.False(onFailed.IsCompleted);
        await Poll.UntilAsync(async () => await store.PromoteDueAsync(["conformance-other"]) is null && (await store.CountAsync("conformance-other")).Pending == 1, "the retry is promoted", Bound);
        lease = await FetchOneAsync(store, "conformance-other");
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "twice", null))));
        var info = await onFailed.WaitAsync(Bound);
        Assert.Equal((TaskState.Failed, 2, "twice"), (info.State, info.Attempt, info.Error!.Message));
    }

    [Fact]
    public async Task Thousands_of_waiters_on_distinct_tasks_each_get_their_own_task()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, Enumerable.Range(0, 2_000).Select(_ => Item()).ToList());
        var waiters = ids.Select(id => store.WaitAsync(id, TimeSpan.FromMinutes(5)).AsTask()).ToList();

        var done = 0;
        while (done < ids.Count)
        {
            var leases = await store.FetchAsync([Queue], 500, CancellationToken.None);
            Assert.NotEmpty(leases);
            foreach (var lease in leases)
            {
                Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(lease.Id))));
                done++;
            }
        }

        var infos = await Task.WhenAll(waiters).WaitAsync(Bound);
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(ids[i], infos[i].Id);
            Assert.Equal(ids[i], MessagePackSerializer.Deserialize<string>(infos[i].Result));
        }
    }

    // ---- Get ----

    [Fact]
    public async Task Get_of_an_unknown_or_malformed_id_returns_null()
    {
        var store = await StoreAsync();
        await store.EnqueueAsync(Queue, Item());
        foreach (var id in new[] { "never-enqueued@" + Queue, "never-enqueued@conformance-unused", "", "@", "x@", "@" + Queue, "1@", "not an id", "1-1@{bad}", new string('x', 5_000) })
        {
            Assert.Null(await store.GetAsync(id));
            Assert.Null(await store.GetStoredAsync(id));
        }
    }

    // ---- Tools: list, count, requeue, delete, purge, queues, workers ----

    [Fact]
    public async Task List_pages_pending_tasks_in_run_order()
    {
        var store = await StoreAsync();
        var a = await store.EnqueueAsync(Queue, Item(priority: 0));
        var b = await store.EnqueueAsync(Queue, Item(priority: 0));
        var c = await store.EnqueueAsync(Queue, Item(priority: 0));
        var d = await store.EnqueueAsync(Queue, Item(priority: 5));

        Assert.Equal([d, a, b, c], await ListIds(store, TaskState.Pending, 0, 10));
        Assert.Equal([a, b], await ListIds(store, TaskState.Pending, 1, 2));
        Assert.Equal([c], await ListIds(store, TaskState.Pending, 3, 2));
        Assert.Empty(await ListIds(store, TaskState.Pending, 4, 2));
        Assert.Empty(await ListIds(store, TaskState.Pending, 0, 0));
        var first = (await store.ListAsync(Queue, TaskState.Pending, 0, 1))[0];
        Assert.Equal((5, TaskState.Pending), (first.Priority, first.Info.State));
        Assert.Empty(await store.ListAsync("conformance-unused", TaskState.Pending, 0, 10));
    }

    [Fact]
    public async Task List_pages_scheduled_tasks_by_due_time_and_running_ones_by_lease_deadline()
    {
        var store = await StoreAsync();
        var late = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(3)));
        var early = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(1)));
        var middle = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(2)));
        Assert.Equal([early, middle, late], await ListIds(store, TaskState.Scheduled, 0, 10));
        Assert.Equal([middle, late], await ListIds(store, TaskState.Scheduled, 1, 10));

        var first = await store.EnqueueAsync(Queue, Item());
        await FetchOneAsync(store, Queue);
        await Task.Delay(20);
        var second = await store.EnqueueAsync(Queue, Item(priority: 9));
        await FetchOneAsync(store, Queue);
        Assert.Equal([first, second], await ListIds(store, TaskState.Started, 0, 10));
        Assert.Equal([second], await ListIds(store, TaskState.Started, 1, 10));
    }

    [Fact]
    public async Task List_pages_final_tasks_newest_first()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item(), Item()]);
        foreach (var lease in await store.FetchAsync([Queue], 3, CancellationToken.None))
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", lease.Id, null))));
        }

        Assert.Equal([ids[2], ids[1], ids[0]], await ListIds(store, TaskState.Failed, 0, 10));
        Assert.Equal([ids[1], ids[0]], await ListIds(store, TaskState.Failed, 1, 10));
        Assert.Equal([ids[2]], await ListIds(store, TaskState.Failed, 0, 1));
        var listed = (await store.ListAsync(Queue, TaskState.Failed, 0, 1))[0];
        Assert.Equal(ids[2], listed.Info.Error!.Message);
        Assert.False(listed.Envelope.IsEmpty);
    }

    [Fact]
    public async Task Count_gives_the_number_of_tasks_in_each_state()
    {
        var store = await StoreAsync();
        await store.EnqueueAsync(Queue, Item(due: Now().AddHours(1)));
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item(), Item(), Item(), Item(), Item()]);
        var leases = await store.FetchAsync([Queue], 5, CancellationToken.None);
        Assert.True(await store.CompleteAsync(leases[0], TaskCompletion.Succeeded(default)));
        Assert.True(await store.CompleteAsync(leases[1], TaskCompletion.Failed(new TaskError("E", "m", null))));
        Assert.True(await store.CompleteAsync(leases[2], TaskCompletion.Retry(new TaskError("E", "m", null), Now().AddHours(1))));
        Assert.True(await store.CompleteAsync(leases[3], TaskCompletion.Expired()));
        Assert.True(await store.CancelAsync(ids[5]));

        var counts = await store.CountAsync(Queue);
        Assert.Equal(new StateCounts(Pending: 0, Scheduled: 1, Started: 1, Retrying: 1, Succeeded: 1, Failed: 1, Canceled: 1, Expired: 1), counts);
        Assert.Equal(1, counts[TaskState.Started]);
        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 0, 0), await store.CountAsync("conformance-unused"));
    }

    [Fact]
    public async Task Requeue_sends_failed_canceled_expired_scheduled_and_retrying_tasks_to_the_tail_as_new_attempts()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item(), Item(), Item(), Item()]);
        var leases = await store.FetchAsync([Queue], 5, CancellationToken.None);
        Assert.True(await store.CompleteAsync(leases[0], TaskCompletion.Failed(new TaskError("E", "m", null))));
        Assert.True(await store.CompleteAsync(leases[1], TaskCompletion.Expired()));
        Assert.True(await store.CompleteAsync(leases[2], TaskCompletion.Retry(new TaskError("E", "m", null), Now().AddHours(1))));
        Assert.True(await store.CompleteAsync(leases[3], TaskCompletion.Succeeded(default)));
        Assert.True(await store.CancelAsync(leases[4].Id));
        Assert.True(await store.CompleteAsync(leases[4], TaskCompletion.Canceled()));
        var scheduled = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(1)));
        var waiting = await store.EnqueueAsync(Queue, Item());
        var running = await store.EnqueueAsync("conformance-other", Item());
        await FetchOneAsync(store, "conformance-other");

        Assert.Equal(0, await store.RequeueAsync([ids[3], waiting, running, "never-enqueued@" + Queue, "not an id"]));
        Assert.Equal(5, await store.RequeueAsync([ids[0], ids[1], ids[2], ids[4], scheduled]));
        Assert.Equal(0, await store.RequeueAsync([ids[0]]));

        Assert.Equal([waiting, ids[0], ids[1], ids[2], ids[4], scheduled], await ListIds(store, TaskState.Pending, 0, 10));
        foreach (var id in new[] { ids[0], ids[1], ids[2], ids[4], scheduled })
        {
            var info = (await store.GetAsync(id))!;
            Assert.Equal((TaskState.Pending, 0), (info.State, info.Attempt));
            Assert.Null(info.Error);
        }

        Assert.Equal(new StateCounts(6, 0, 0, 0, 1, 0, 0, 0), await store.CountAsync(Queue));
        Assert.Equal(TaskState.Succeeded, (await store.GetAsync(ids[3]))!.State);
        Assert.Equal(TaskState.Started, (await store.GetAsync(running))!.State);
        var rerun = await store.FetchAsync([Queue], 2, CancellationToken.None);
        Assert.Equal([(waiting, 1), (ids[0], 1)], rerun.Select(l => (l.Id, l.Attempt)));
    }

    [Fact]
    public async Task Delete_removes_tasks_that_are_not_running()
    {
        var store = await StoreAsync();
        var pending = await store.EnqueueAsync(Queue, Item());
        var scheduled = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(1)));
        var failed = await store.EnqueueAsync("conformance-other", Item());
        var lease = await FetchOneAsync(store, "conformance-other");
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));
        var running = await store.EnqueueAsync("conformance-other", Item());
        await FetchOneAsync(store, "conformance-other");

        Assert.Equal(3, await store.DeleteAsync([pending, scheduled, failed, running, "never-enqueued@" + Queue, "not an id"]));
        foreach (var id in new[] { pending, scheduled, failed })
        {
            Assert.Null(await store.GetAsync(id));
            await Assert.ThrowsAsync<TaskNotFoundException>(() => store.WaitAsync(id, TimeSpan.FromSeconds(5)).AsTask().WaitAsync(Bound));
        }

        Assert.Equal(TaskState.Started, (await store.GetAsync(running))!.State);
        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 0, 0), await store.CountAsync(Queue));
        Assert.Equal(new StateCounts(0, 0, 1, 0, 0, 0, 0, 0), await store.CountAsync("conformance-other"));
        Assert.Empty(await store.ListAsync("conformance-other", TaskState.Failed, 0, 10));
        Assert.Equal(0, await store.DeleteAsync([pending]));
    }

    [Fact]
    public async Task Purge_deletes_pending_tasks_oldest_first_up_to_max()
    {
        var store = await StoreAsync();
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item(), Item(), Item(), Item()]);
        var scheduled = await store.EnqueueAsync(Queue, Item(due: Now().AddHours(1)));

        Assert.Equal(3, await store.PurgeAsync(Queue, 3));
        Assert.Equal(ids.Skip(3), await ListIds(store, TaskState.Pending, 0, 10));
        Assert.Null(await store.GetAsync(ids[0]));
        Assert.Equal(2, await store.PurgeAsync(Queue, 3));
        Assert.Equal(0, await store.PurgeAsync(Queue, 3));
        Assert.Equal(new StateCounts(0, 1, 0, 0, 0, 0, 0, 0), await store.CountAsync(Queue));
        Assert.Equal(TaskState.Scheduled, (await store.GetAsync(scheduled))!.State);
    }

    [Fact]
    public async Task Queues_are_those_that_got_a_task_or_are_served_by_a_live_worker_in_name_order()
    {
        var store = await StoreAsync();
        Assert.Empty(await store.GetQueuesAsync());
        await store.EnqueueAsync("conformance-b", Item());
        await store.EnqueueAsync("conformance-B", Item(due: Now().AddHours(1)));
        await store.EnqueueAsync("conformance-a", Item());
        Assert.Equal(["conformance-B", "conformance-a", "conformance-b"], await store.GetQueuesAsync());

        await store.HeartbeatAsync(Describe("conformance-served", "conformance-a"), []);
        Assert.Equal(["conformance-B", "conformance-a", "conformance-b", "conformance-served"], await store.GetQueuesAsync());
        await store.LeaveAsync();
        Assert.Equal(["conformance-B", "conformance-a", "conformance-b"], await store.GetQueuesAsync());
    }

    [Fact]
    public async Task A_heartbeat_publishes_the_worker_with_what_it_holds_until_it_leaves()
    {
        var store = await StoreAsync();
        Assert.Empty(await store.GetWorkersAsync());
        var ids = await store.EnqueueManyAsync(Queue, [Item(), Item()]);
        var leases = await store.FetchAsync([Queue], 2, CancellationToken.None);
        var before = DateTimeOffset.UtcNow;
        await store.HeartbeatAsync(new WorkerDescription([Queue, "conformance-other"], 8, new WorkerStatus(), ["conformance.task"]), leases);

        var worker = Assert.Single(await store.GetWorkersAsync());
        Assert.Equal(WorkerIdentity.Host, worker.Host);
        Assert.Equal(WorkerIdentity.Pid, worker.Pid);
        Assert.Equal([Queue, "conformance-other"], worker.Queues);
        Assert.Equal(["conformance.task"], worker.Tasks!);
        Assert.Equal(8, worker.Concurrency);
        Assert.Equal(ids.Order(StringComparer.Ordinal), worker.Running.Order(StringComparer.Ordinal));
        Assert.InRange(worker.LastSeen, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        await store.HeartbeatAsync(Describe(Queue), [leases[0]]);
        Assert.Equal([ids[0]], Assert.Single(await store.GetWorkersAsync()).Running);
        await store.LeaveAsync();
        Assert.Empty(await store.GetWorkersAsync());
    }

    [Fact]
    public async Task A_worker_that_stops_beating_drops_out_after_the_worker_timeout()
    {
        var store = await StoreAsync(StoreSettings.Default with { WorkerTimeout = TimeSpan.FromMilliseconds(300) });
        await store.HeartbeatAsync(Describe("conformance-served"), []);
        Assert.Single(await store.GetWorkersAsync());
        await Poll.UntilAsync(async () => (await store.GetWorkersAsync()).Count == 0, "the silent worker drops out", Bound);
        Assert.Empty(await store.GetQueuesAsync());
    }

    // ---- Retention ----

    [Fact]
    public async Task A_final_record_expires_after_the_result_ttl_and_a_waiting_one_never_does()
    {
        var store = await StoreAsync(StoreSettings.Default with { ResultTtl = TimeSpan.FromMilliseconds(400) });
        var done = await store.EnqueueAsync(Queue, Item(chosen: "once"));

        // In another queue: a store may keep a final record while a neighbour of it is not final
        // (the TTL is a minimum), so the one that must expire has none.
        var waiting = await store.EnqueueAsync("conformance-other", Item());
        var lease = await FetchOneAsync(store, Queue);
        Assert.Equal(done, lease.Id);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.NotNull(await store.GetAsync(done));

        await Poll.UntilAsync(async () => await store.GetAsync(done) is null, "the succeeded record expires", Bound);
        await Assert.ThrowsAsync<TaskNotFoundException>(() => store.WaitAsync(done, TimeSpan.FromSeconds(5)).AsTask().WaitAsync(Bound));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(waiting))!.State);

        // Its chosen id is free again: the same id names a new task.
        var again = await store.EnqueueAsync(Queue, Item(chosen: "once"));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(again))!.State);
        Assert.Equal(1, (await store.CountAsync(Queue)).Pending);
        Assert.Equal(0, (await store.CountAsync(Queue)).Succeeded);
    }

    [Fact]
    public async Task Final_indexes_keep_the_newest_up_to_their_cap_and_records_beyond_it_stay_readable()
    {
        var store = await StoreAsync(StoreSettings.Default with { RecentCap = 3, FailedCap = 2 });
        var ids = await store.EnqueueManyAsync(Queue, Enumerable.Range(0, 8).Select(_ => Item()).ToList());
        var leases = await store.FetchAsync([Queue], 8, CancellationToken.None);
        foreach (var lease in leases.Take(5))
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        }

        foreach (var lease in leases.Skip(5))
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));
        }

        var counts = await store.CountAsync(Queue);
        Assert.Equal((3L, 2L), (counts.Succeeded, counts.Failed));
        Assert.Equal([ids[4], ids[3], ids[2]], await ListIds(store, TaskState.Succeeded, 0, 10));
        Assert.Equal([ids[7], ids[6]], await ListIds(store, TaskState.Failed, 0, 10));
        Assert.Equal(TaskState.Succeeded, (await store.GetAsync(ids[0]))!.State);
        Assert.Equal(TaskState.Failed, (await store.GetAsync(ids[5]))!.State);
    }

    // ---- Task metrics ----

    [Fact]
    public async Task Recorded_metrics_add_up_per_task_and_minute_and_read_back_by_the_minute_and_by_ten_minutes()
    {
        var store = await StoreAsync();
        var minute = MetricsRetention.Floor(DateTimeOffset.UtcNow, MetricsRetention.Fine);
        var before = minute - TimeSpan.FromMinutes(1);

        // Two workers' flushes of the same minute, and one of the minute before.
        await store.RecordMetricsAsync([Sample("a", minute, runs: 3, failures: 1, TimeSpan.FromMilliseconds(3)), Sample("b", minute, runs: 1, failures: 0, TimeSpan.FromSeconds(3))]);
        await store.RecordMetricsAsync([Sample("a", minute, runs: 2, failures: 2, TimeSpan.FromMilliseconds(150))]);
        await store.RecordMetricsAsync([Sample("a", before, runs: 4, failures: 0, TimeSpan.FromMilliseconds(1))]);

        var fine = await store.GetMetricsAsync(before, minute + MetricsRetention.Fine, MetricsRetention.Fine);
        Assert.Equal(
            [("a", before, 4L, 0L), ("a", minute, 5L, 3L), ("b", minute, 1L, 0L)],
            fine.Select(m => (m.TaskName, m.Start, m.Runs, m.Failures)).OrderBy(m => m.Start).ThenBy(m => m.TaskName, StringComparer.Ordinal).ToArray());
        var a = fine.Single(m => m.TaskName == "a" && m.Start == minute);
        Assert.Equal(5, a.Latency.Total);
        Assert.Equal(TimeSpan.FromMilliseconds(5), a.Latency.Percentile(50));
        Assert.Equal(TimeSpan.FromMilliseconds(200), a.Latency.Percentile(95));
        Assert.All(fine, m => Assert.Equal(MetricsRetention.Fine, m.Resolution));

        // Only the intervals asked for.
        Assert.Equal(["a"], (await store.GetMetricsAsync(before, minute, MetricsRetention.Fine)).Select(m => m.TaskName));

        var coarse = await store.GetMetricsAsync(MetricsRetention.Floor(before, MetricsRetention.Coarse), minute + MetricsRetention.Coarse, MetricsRetention.Coarse);
        Assert.Equal(9L, coarse.Where(m => m.TaskName == "a").Sum(m => m.Runs));
        Assert.Equal(3L, coarse.Where(m => m.TaskName == "a").Sum(m => m.Failures));
        Assert.Equal(1L, coarse.Single(m => m.TaskName == "b").Runs);
        Assert.All(coarse, m => Assert.Equal(MetricsRetention.Coarse, m.Resolution));
    }

    [Fact]
    public async Task Metrics_that_cannot_be_are_refused_and_nothing_of_the_call_is_recorded()
    {
        var store = await StoreAsync();
        var minute = MetricsRetention.Floor(DateTimeOffset.UtcNow, MetricsRetention.Fine);
        var good = Sample("ok", minute, runs: 1, failures: 0, TimeSpan.FromMilliseconds(1));
        foreach (var bad in new[]
        {
            Sample("x", minute, runs: 1, failures: 2, TimeSpan.FromMilliseconds(1)),                       // more failures than runs
            Sample("x", minute.AddSeconds(30), runs: 1, failures: 0, TimeSpan.FromMilliseconds(1)),        // not on a whole minute
            Sample("", minute, runs: 1, failures: 0, TimeSpan.FromMilliseconds(1)),                        // no task name
            Sample("x", minute, runs: 1, failures: 0, TimeSpan.FromMilliseconds(1)) with { Runs = 2 },      // a latency count per run
            Sample("x", minute, runs: 1, failures: 0, TimeSpan.FromMilliseconds(1)) with { Resolution = MetricsRetention.Coarse },
        })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.RecordMetricsAsync([good, bad]));
            Assert.Contains("minute figures", error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await store.GetMetricsAsync(minute - MetricsRetention.Fine, minute + MetricsRetention.Fine, MetricsRetention.Fine));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.GetMetricsAsync(minute, minute, TimeSpan.FromMinutes(5)));
    }

    private static TaskMetrics Sample(string task, DateTimeOffset start, long runs, long failures, TimeSpan each)
    {
        var counts = new long[LatencyHistogram.Bounds.Count];
        counts[LatencyHistogram.BucketOf(each)] = runs;
        return new TaskMetrics { TaskName = task, Start = start, Resolution = MetricsRetention.Fine, Runs = runs, Failures = failures, Latency = new LatencyHistogram(counts) };
    }

    // ---- Progress ----

    [Fact]
    public async Task Progress_is_stored_only_under_the_current_runs_fence_and_read_back_with_its_attempt()
    {
        var store = await StoreAsync();
        var id = await store.EnqueueAsync(Queue, Item());
        Assert.Null(await store.GetProgressAsync(id));
        var first = await FetchOneAsync(store, Queue);
        Assert.True(await store.SetProgressAsync(first, new byte[] { 0x01 }));
        var stored = await store.GetProgressAsync(id);
        Assert.Equal(new byte[] { 0x01 }, stored!.Value.ToArray());
        Assert.Equal(1, stored.Attempt);

        // Released and fetched again: the first run's lease is stale and cannot overwrite the second's.
        Assert.True(await store.CompleteAsync(first, TaskCompletion.Released()));
        var second = await FetchOneAsync(store, Queue);
        Assert.True(await store.SetProgressAsync(second, new byte[] { 0x02 }));
        Assert.False(await store.SetProgressAsync(first, new byte[] { 0x03 }));
        Assert.Equal(new byte[] { 0x02 }, (await store.GetProgressAsync(id))!.Value.ToArray());

        // Ended: nothing more is stored, and the last value stays readable.
        Assert.True(await store.CompleteAsync(second, TaskCompletion.Succeeded(new byte[] { 0xC0 })));
        Assert.False(await store.SetProgressAsync(second, new byte[] { 0x04 }));
        Assert.Equal(new byte[] { 0x02 }, (await store.GetProgressAsync(id))!.Value.ToArray());
        Assert.Null(await store.GetProgressAsync("1-999@" + Queue));
        Assert.Null(await store.GetProgressAsync("not-an-id"));
    }

    // ---- Helpers ----

    /// <summary>A store made for this test with <paramref name="settings"/> (default: <see cref="StoreSettings.Default"/>), disposed after it.</summary>
    protected async Task<ITaskStore> StoreAsync(StoreSettings? settings = null)
    {
        var store = await CreateStoreAsync(settings ?? StoreSettings.Default);
        _stores.Add(store);
        return store;
    }

    /// <summary>A real envelope, as a client writes it, so that the store reads its task name back.</summary>
    protected static byte[] Envelope(string taskName = "conformance.task") => TaskEnvelope.Write(
        new EnvelopeHeader(taskName, DateTimeOffset.UtcNow, null, null, null),
        default(NoArguments),
        TaskSerializer.Options);

    private static TaskToEnqueue Item(int priority = 0, DateTimeOffset? due = null, string? chosen = null)
        => new(Envelope(), priority, due, chosen);

    // Whole milliseconds: what a store on a server keeps of a time.
    private static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private static WorkerDescription Describe(params string[] queues) => new(queues, 1, new WorkerStatus());

    private static async Task<TaskLease> FetchOneAsync(ITaskStore store, string queue)
    {
        using var limit = new CancellationTokenSource(Bound);
        while (true)
        {
            var leases = await store.FetchAsync([queue], 1, limit.Token);
            if (leases.Count > 0)
            {
                return Assert.Single(leases);
            }
        }
    }

    private static async Task<IReadOnlyList<string>> ListIds(ITaskStore store, TaskState state, long offset, int count)
        => (await store.ListAsync(Queue, state, offset, count)).Select(t => t.Info.Id).ToList();

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }
}

using System;
using System.Collections.Generic;
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
/// An enqueue hands its task straight to an idle worker: a store whose fetch ended with room
/// left is registered as idle on its queues, and an enqueue to such a queue with nothing pending
/// starts the task for it and publishes the start on that store's own channel. The worker and
/// the producer are stores on connections of their own, as separate processes have.
/// </summary>
public abstract class HandOffTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _prefix = "ho" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IAsyncDisposable> _owned = [];
    private ConnectionMultiplexer _admin = null!;

    protected abstract string Endpoint { get; }

    /// <summary>Whether the server counts every subscriber of a channel (a single server; a Cluster node counts its own).</summary>
    protected abstract bool CountsSubscribers { get; }

    public async Task InitializeAsync() => _admin = await ConnectionMultiplexer.ConnectAsync(Endpoint + ",allowAdmin=true");

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _admin.DisposeAsync();
    }

    /// <summary>A store on a connection of its own; the connection is returned too, to break it.</summary>
    private async Task<(RedisTaskStore Store, ConnectionMultiplexer Connection)> OpenAsync(TimeSpan? idleFetch = null, TimeSpan? lease = null, TimeSpan? heartbeat = null)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var options = new RedisTransportOptions
        {
            KeyPrefix = _prefix,
            IdleFetchInterval = idleFetch ?? TimeSpan.FromMinutes(1),
            HeartbeatInterval = heartbeat ?? TimeSpan.FromMilliseconds(200),
            LeaseDuration = lease,
        };
        var store = new RedisTaskStore(connection, options);
        _owned.Add(connection);
        _owned.Add(store);
        return (store, connection);
    }

    private Task ResetStatsAsync() => ScriptCalls.ResetAsync(_admin);

    /// <summary>Script calls on every master since the last reset.</summary>
    private Task<long> ScriptCallsAsync() => ScriptCalls.CountAsync(_admin);

    private RedisKey IdleKey(string queue) => Key(_prefix, queue, "idle");

    /// <summary>Waits until <paramref name="count"/> stores are registered idle on the queue.</summary>
    private Task IdleAsync(string queue, int count = 1)
        => Poll.UntilAsync(async () => await _admin.GetDatabase().HashLengthAsync(IdleKey(queue)) == count, $"{count} idle entries on {queue}", Bound);

    /// <summary>
    /// Starts a fetch of <paramref name="worker"/> on an empty queue and returns it, still waiting,
    /// once its look registered it idle (<paramref name="idle"/> entries on the queue in all).
    /// </summary>
    private async Task<Task<IReadOnlyList<TaskLease>>> WaitingFetchAsync(RedisTaskStore worker, string queue, int room, CancellationToken ct, int idle = 1)
    {
        var fetching = worker.FetchAsync([queue], room, ct).AsTask();
        await IdleAsync(queue, idle);
        return fetching;
    }

    /// <summary>An empty fetch that returns at once (the worker's store looks, finds nothing and registers idle with room <paramref name="room"/>).</summary>
    private static async Task LookEmptyAsync(RedisTaskStore worker, string queue, int room)
    {
        using var cts = new CancellationTokenSource(Bound);
        Assert.Empty(await worker.FetchAsync([queue], room, cts.Token));
    }

    private static async Task SucceedAsync(RedisTaskStore store, TaskLease lease)
        => Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));

    [Fact]
    public async Task A_task_enqueued_to_an_idle_worker_starts_with_no_fetch_call_and_runs_once()
    {
        // Input: a worker waiting in a fetch of an empty queue (its look registered it idle), then
        // one enqueue by another process. Expected: the waiting fetch returns the task with the
        // attempt and fence a fetch gives (1, 1); the only script call is the enqueue's; the
        // record is Started by that worker; its completion settles it, once.
        var (worker, _) = await OpenAsync();
        var (producer, _) = await OpenAsync();
        using var cts = new CancellationTokenSource(Bound);
        var fetching = await WaitingFetchAsync(worker, "h", 4, cts.Token);
        await ResetStatsAsync();

        var id = await producer.EnqueueAsync("h", New(Small(7)));
        var lease = Assert.Single(await fetching.WaitAsync(Bound));
        Assert.Equal(1, await ScriptCallsAsync());
        Assert.Equal((id, "h", 1, 1L), (lease.Id, lease.Queue, lease.Attempt, lease.Fence));
        Assert.Equal(Small(7), lease.Envelope.ToArray());
        var info = (await producer.GetAsync(id))!;
        Assert.Equal((TaskState.Started, 1, Worker.WorkerIdentity.Name), (info.State, info.Attempt, info.Worker));

        await SucceedAsync(worker, lease);
        Assert.False(await worker.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 2 })));
        Assert.Equal((TaskState.Succeeded, 1), ((await producer.GetAsync(id))!.State, (await producer.GetAsync(id))!.Attempt));
        Assert.Equal(1, (await producer.CountAsync("h")).Succeeded);
    }

    [Fact]
    public async Task A_task_with_a_long_name_handed_to_an_idle_worker_arrives_whole()
    {
        // Input: a worker waiting in a fetch of an empty queue, then one task whose 32-byte name
        // the queue's name table keeps (its record holds the number). Expected: the handed start
        // carries the envelope byte for byte as sent, name and all; the enqueue is the only
        // script call (the task was handed, not fetched).
        var (worker, _) = await OpenAsync();
        var (producer, _) = await OpenAsync();
        using var cts = new CancellationTokenSource(Bound);
        var fetching = await WaitingFetchAsync(worker, "hl", 4, cts.Token);
        await ResetStatsAsync();

        var envelope = Named("Shop.Billing.Invoices.ChargeCard");
        var id = await producer.EnqueueAsync("hl", New(envelope));
        var lease = Assert.Single(await fetching.WaitAsync(Bound));
        Assert.Equal(1, await ScriptCallsAsync());
        Assert.Equal(id, lease.Id);
        Assert.Equal(envelope, lease.Envelope.ToArray());
        Assert.Equal("1", (string?)await _admin.GetDatabase().HashGetAsync(Key(_prefix, "hl", "names"), "=Shop.Billing.Invoices.ChargeCard"));
        await SucceedAsync(worker, lease);
    }

    [Fact]
    public async Task An_enqueue_hands_at_most_the_room_an_idle_worker_has_the_highest_priority_first_and_the_rest_waits_pending()
    {
        // Input: a worker registered idle with room 2 (an empty look with room 2), then one
        // enqueue of four tasks, priorities 0, 5, 9, 5. Expected: the 9 and the first 5 are
        // started for the worker (what its fetch would have taken), the 0 and the second 5 stay
        // Pending; its next fetch returns the two handed ones with no look, the one after that the
        // second 5, then the 0: nothing overtakes what a fetch would have taken first. (The idle
        // entry stands 2.1 s, its idle fetch interval plus its heartbeat interval: longer than a
        // fresh producer's first call takes on a loaded machine.)
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100), heartbeat: TimeSpan.FromSeconds(2));
        var (producer, _) = await OpenAsync();
        await LookEmptyAsync(worker, "p", 2);

        var ids = await producer.EnqueueManyAsync("p", [New(Small(0), 0), New(Small(1), 5), New(Small(2), 9), New(Small(3), 5)]);
        var counts = await producer.CountAsync("p");
        Assert.Equal((2L, 2L), (counts.Started, counts.Pending));
        await Poll.UntilAsync(() => Task.FromResult(worker.HandedCount == 2), "the worker heard both starts", Bound);
        using var cts = new CancellationTokenSource(Bound);
        var handed = await worker.FetchAsync(["p"], 4, cts.Token);
        Assert.Equal(new[] { ids[1], ids[2] }.Order(), handed.Select(l => l.Id).Order());
        var next = Assert.Single(await worker.FetchAsync(["p"], 1, cts.Token));
        Assert.Equal(ids[3], next.Id);
        var last = Assert.Single(await worker.FetchAsync(["p"], 1, cts.Token));
        Assert.Equal(ids[0], last.Id);
        foreach (var lease in handed.Append(next).Append(last))
        {
            await SucceedAsync(worker, lease);
        }

        Assert.Equal(4, (await producer.CountAsync("p")).Succeeded);
    }

    [Fact]
    public async Task With_a_pending_entry_present_nothing_is_handed_and_a_later_task_never_overtakes()
    {
        // Input: a limited task enqueued (limits go the normal way: it stays Pending), then a worker
        // registered idle with room 4, then a plain task and a task of higher priority. Expected:
        // neither is handed (a pending entry is there): all three are Pending, and fetches take the
        // higher priority first, then the limited task, then the plain one, in enqueue order.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        var limited = await producer.EnqueueAsync("o", New(Small(1)) with { Limits = [new TaskLimit("o-limit", 5)] });
        Assert.Equal(1, (await producer.CountAsync("o")).Pending);
        await _admin.GetDatabase().HashSetAsync(IdleKey("o"), "fake", $"1 4 60000 {DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds()}");

        var plain = await producer.EnqueueAsync("o", New(Small(2)));
        var urgent = await producer.EnqueueAsync("o", New(Small(3), 9));
        Assert.Equal((3L, 0L), ((await producer.CountAsync("o")).Pending, (await producer.CountAsync("o")).Started));

        using var cts = new CancellationTokenSource(Bound);
        var order = new List<string>();
        while (order.Count < 3)
        {
            foreach (var lease in await worker.FetchAsync(["o"], 1, cts.Token))
            {
                order.Add(lease.Id);
                await SucceedAsync(worker, lease);
            }
        }

        Assert.Equal([urgent, limited, plain], order);
    }

    [Fact]
    public async Task Limited_delayed_and_unique_held_tasks_are_not_handed_and_still_run()
    {
        // Input: a worker registered idle with room 8; then a limited task, a task due in 300 ms, a
        // unique task (handed: it is new and immediate) and a second enqueue of its unique key
        // while it holds the lock. Expected: the limited task stays Pending, the delayed one
        // Scheduled, the second unique enqueue gives the first one's id and makes nothing;
        // then each runs once through fetches.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        await LookEmptyAsync(worker, "l", 8);

        var limited = await producer.EnqueueAsync("l", New(Small(1)) with { Limits = [new TaskLimit("l-limit", 1)] });
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(limited))!.State);
        var delayed = await producer.EnqueueAsync("l", New(Small(2), due: DateTimeOffset.UtcNow.AddMilliseconds(300)));
        Assert.Equal(TaskState.Scheduled, (await producer.GetAsync(delayed))!.State);
        var unique = New(Small(3)) with { UniqueKey = "one", UniqueFor = TimeSpan.FromMinutes(1) };

        // The limited task is pending: a later one is not handed (it would overtake it).
        var first = await producer.EnqueueAsync("l", unique);
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(first))!.State);
        Assert.Equal(first, await producer.EnqueueAsync("l", unique));

        using var cts = new CancellationTokenSource(Bound);
        var ran = new List<string>();
        await Poll.UntilAsync(async () =>
        {
            await producer.PromoteDueAsync(["l"]);
            foreach (var lease in await worker.FetchAsync(["l"], 8, cts.Token))
            {
                ran.Add(lease.Id);
                await SucceedAsync(worker, lease);
            }

            return ran.Count == 3;
        }, "the three tasks ran", Bound);
        Assert.Equal(new[] { delayed, first, limited }.Order(), ran.Order());
        Assert.Equal(3, (await producer.CountAsync("l")).Succeeded);
    }

    [Fact]
    public async Task A_delayed_or_limited_task_to_an_idle_queue_is_not_handed()
    {
        // Input: a worker registered idle with room 4 on an empty queue; a task due in a minute, then
        // (the queue still has nothing pending) a limited task. Expected: Scheduled and Pending
        // respectively, the worker's entry keeps its room; a plain task after them is not handed
        // either (the limited one is pending). The worker's entry stands 5.1 s (its idle fetch
        // interval plus its heartbeat interval), longer than the test's calls take on a loaded
        // machine: an entry that lapsed meanwhile would be removed, and prove nothing.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100), heartbeat: TimeSpan.FromSeconds(5));
        var (producer, _) = await OpenAsync();
        await LookEmptyAsync(worker, "d", 4);
        var entry = (string)(await _admin.GetDatabase().HashGetAllAsync(IdleKey("d"))).Single().Value!;

        var delayed = await producer.EnqueueAsync("d", New(Small(1), due: DateTimeOffset.UtcNow.AddMinutes(1)));
        var limited = await producer.EnqueueAsync("d", New(Small(2)) with { Limits = [new TaskLimit("d-limit", 3)] });
        Assert.Equal(TaskState.Scheduled, (await producer.GetAsync(delayed))!.State);
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(limited))!.State);
        Assert.Equal(entry, (string)(await _admin.GetDatabase().HashGetAllAsync(IdleKey("d"))).Single().Value!);
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(await producer.EnqueueAsync("d", New(Small(3)))))!.State);
    }

    [Fact]
    public async Task A_task_for_a_killed_idle_worker_runs_elsewhere_at_once_on_a_single_server_and_after_its_lease_on_a_cluster()
    {
        // Input: a worker (lease 1 s) registered idle, whose connection then breaks for good (a
        // killed process: nothing cleaned up, its idle entry still fresh); a task enqueued.
        // Expected on a single server: the enqueue sees that no one listens on the worker's
        // channel (PUBSUB NUMSUB), removes its idle entry and leaves the task Pending, and another
        // worker fetches it at once (fence 1). On a Cluster, where a node counts only its own
        // subscribers, the task is Started by that worker (handed), then, once its lease expired,
        // recovered by another worker, which fetches it (fence 2, attempt 1: a run lost with its
        // worker does not count) and settles it. Either way it ran once.
        var (dead, deadConnection) = await OpenAsync(lease: TimeSpan.FromSeconds(1));
        var (rescuer, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        Assert.Equal(0, await rescuer.RecoverAsync(["k"]));

        // A worker beats from its start: its entry in the lease registry is what tells the others
        // that it stopped.
        await dead.HeartbeatAsync(new WorkerDescription(["k"], 4, new WorkerStatus()), []);
        using var killed = new CancellationTokenSource();
        var waiting = dead.FetchAsync(["k"], 4, killed.Token).AsTask();
        await IdleAsync("k");
        var hand = $"{_prefix}:store:hand:{(await _admin.GetDatabase().HashKeysAsync(IdleKey("k"))).Single()}";
        await deadConnection.CloseAsync(allowCommandsToComplete: false);
        if (CountsSubscribers)
        {
            // The server has dropped the closed connection's subscription, as it does at once for a killed process's.
            await Poll.UntilAsync(async () => await SubscribersAsync(_admin.GetDatabase(), hand) == 0, "the killed worker's subscription is gone", Bound);
        }

        var id = await producer.EnqueueAsync("k", New(Small(5)));
        if (CountsSubscribers)
        {
            Assert.Equal(TaskState.Pending, (await producer.GetAsync(id))!.State);
            Assert.Equal(0, await _admin.GetDatabase().HashLengthAsync(IdleKey("k")));
        }
        else
        {
            Assert.Equal(TaskState.Started, (await producer.GetAsync(id))!.State);
            await Poll.UntilAsync(async () => await rescuer.RecoverAsync(["k"]) == 1, "the handed task is recovered", Bound);
        }

        using var cts = new CancellationTokenSource(Bound);
        var lease = Assert.Single(await rescuer.FetchAsync(["k"], 4, cts.Token));
        Assert.Equal((id, 1, CountsSubscribers ? 1L : 2L), (lease.Id, lease.Attempt, lease.Fence));
        await SucceedAsync(rescuer, lease);
        var info = (await producer.GetAsync(id))!;
        Assert.Equal((TaskState.Succeeded, 1), (info.State, info.Attempt));

        // The killed worker's fetch never heard the start (its connection is gone).
        await killed.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => waiting.WaitAsync(Bound));
    }

    [Fact]
    public async Task Tasks_handed_to_a_worker_that_stops_before_fetching_them_go_back_to_the_queue_and_run_once()
    {
        // Input: a worker whose fetch returned empty (registered idle, room 4) and that does not
        // fetch again; two tasks enqueued (handed to it, kept by its store); then it leaves.
        // Expected: both are Pending again (released: attempt not counted), its idle entry is
        // gone; another worker fetches them (attempt 1) and each runs once. (Its idle entry stands
        // 2.1 s, longer than a fresh producer's first call takes on a loaded machine.)
        var (leaving, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100), heartbeat: TimeSpan.FromSeconds(2));
        var (other, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        await LookEmptyAsync(leaving, "s", 4);
        var ids = await producer.EnqueueManyAsync("s", [New(Small(1)), New(Small(2))]);
        Assert.Equal(2, (await producer.CountAsync("s")).Started);
        await Poll.UntilAsync(() => Task.FromResult(leaving.HandedCount == 2), "the worker heard both starts", Bound);

        await leaving.LeaveAsync();
        var counts = await producer.CountAsync("s");
        Assert.Equal((2L, 0L), (counts.Pending, counts.Started));
        Assert.Equal(0, await _admin.GetDatabase().HashLengthAsync(IdleKey("s")));

        using var cts = new CancellationTokenSource(Bound);
        var leases = await other.FetchAsync(["s"], 4, cts.Token);
        Assert.Equal(ids, leases.Select(l => l.Id));
        Assert.All(leases, l => Assert.Equal(1, l.Attempt));
        foreach (var lease in leases)
        {
            await SucceedAsync(other, lease);
        }

        Assert.Equal(2, (await producer.CountAsync("s")).Succeeded);
    }

    [Fact]
    public async Task A_worker_that_gives_its_leases_back_with_no_fetch_under_way_gives_back_the_starts_still_on_their_way_first()
    {
        // Input: a worker whose fetch took a handed task (its idle entry still standing, room 3)
        // and that stops without fetching again (its fetcher was waiting for its buffer to
        // drain): a second task is handed to it, and at once, before its start can have been
        // heard, the worker gives the first back (a release, as at a stop), then its store
        // closes. Expected: the release first ends the hand-off and waits for the starts still
        // on their way, which go back before it; so both are Pending in the order they were sent
        // (not the second ahead of the first, released when the store closes), the entry gone.
        var (leaving, _) = await OpenAsync();
        var (producer, _) = await OpenAsync();
        using var cts = new CancellationTokenSource(Bound);
        var fetching = await WaitingFetchAsync(leaving, "r", 4, cts.Token);
        var first = await producer.EnqueueAsync("r", New(Small(1)));
        var lease = Assert.Single(await fetching.WaitAsync(Bound));
        Assert.Equal(first, lease.Id);
        Assert.Equal(1, await _admin.GetDatabase().HashLengthAsync(IdleKey("r")));

        var second = await producer.EnqueueAsync("r", New(Small(2)));   // handed: Started for it
        Assert.True(await leaving.CompleteAsync(lease, TaskCompletion.Released()));
        await leaving.DisposeAsync();

        var counts = await producer.CountAsync("r");
        Assert.Equal((2L, 0L), (counts.Pending, counts.Started));
        Assert.Equal([first, second], (await producer.ListAsync("r", TaskState.Pending, 0, 10)).Select(t => t.Info.Id));
        Assert.Equal(0, await _admin.GetDatabase().HashLengthAsync(IdleKey("r")));
    }

    [Fact]
    public async Task A_canceled_fetch_removes_its_idle_entry_and_nothing_is_handed_to_it()
    {
        // Input: a worker waiting in a fetch (registered idle), whose fetch is then canceled (the
        // worker stops). Expected: its idle entry is gone; a task enqueued then stays Pending.
        var (worker, _) = await OpenAsync();
        var (producer, _) = await OpenAsync();
        using var cts = new CancellationTokenSource(Bound);
        var fetching = await WaitingFetchAsync(worker, "c", 4, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetching.WaitAsync(Bound));

        Assert.Equal(0, await _admin.GetDatabase().HashLengthAsync(IdleKey("c")));
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(await producer.EnqueueAsync("c", New(Small()))))!.State);
    }

    [Fact]
    public async Task A_stale_or_unreadable_idle_entry_is_never_handed_to_and_loses_nothing()
    {
        // Input: entries written by hand on an empty queue: one past its time, one with no room,
        // one that is no entry ("garbage"). Expected: they are ignored (no error); the task is
        // stored Pending and a fetch runs it.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        var db = _admin.GetDatabase();
        var past = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds();
        var future = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds();
        await db.HashSetAsync(IdleKey("x"), [new("stale", $"1 4 60000 {past}"), new("full", $"1 0 60000 {future}"), new("garbage", "not an entry")]);

        var id = await producer.EnqueueAsync("x", New(Small()));
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(id))!.State);
        using var cts = new CancellationTokenSource(Bound);
        var lease = Assert.Single(await worker.FetchAsync(["x"], 1, cts.Token));
        Assert.Equal(id, lease.Id);
        await SucceedAsync(worker, lease);
    }

    [Fact]
    public async Task A_handed_task_canceled_before_its_worker_fetched_it_is_not_returned_to_run()
    {
        // Input: a worker waiting in a fetch with room 2 (registered idle); a task enqueued (handed:
        // the fetch returns it), then, while the worker does not fetch (its executors are busy),
        // a second task (handed, kept by its store), then canceled by the producer. Expected: the
        // second task is Canceled, the store drops it (a worker runs what its fetch returns, and
        // its cancellation watch knows only the leases it was given: a task canceled before it
        // ran must not run), its lease is gone, and the next fetch does not return it.
        var (worker, _) = await OpenAsync();
        var (producer, _) = await OpenAsync();
        using var cts = new CancellationTokenSource(Bound);
        var fetching = await WaitingFetchAsync(worker, "n", 2, cts.Token);
        await producer.EnqueueAsync("n", New(Small(3)));
        var running = Assert.Single(await fetching.WaitAsync(Bound));
        var id = await producer.EnqueueAsync("n", New(Small(4)));
        Assert.Equal(TaskState.Started, (await producer.GetAsync(id))!.State);
        await Poll.UntilAsync(() => Task.FromResult(worker.HandedCount == 1), "the worker heard the second start", Bound);

        Assert.True(await producer.CancelAsync(id));
        Assert.Equal(TaskState.Canceled, (await producer.GetAsync(id))!.State);
        await Poll.UntilAsync(() => Task.FromResult(worker.HandedCount == 0), "the worker's store dropped the canceled task", TimeSpan.FromSeconds(5));
        var seq = Sequence(id).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Poll.UntilAsync(async () => await _admin.GetDatabase().SortedSetScoreAsync(Key(_prefix, "n", "leases"), seq) is null, "the canceled task's lease is gone", Bound);
        using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await worker.FetchAsync(["n"], 2, quick.Token));
        await SucceedAsync(worker, running);
    }

    [Fact]
    public async Task The_entry_of_a_worker_killed_while_idle_is_removed_once_past_its_time()
    {
        // Input: a worker (idle fetch 100 ms, heartbeat 200 ms: its entry stands 300 ms) registered
        // idle, then killed (its connection broken: nothing cleaned up); once its entry's time has
        // passed, a task enqueued to the queue. Expected: the task is Pending (not handed to the
        // dead worker) and the dead worker's entry is gone: the idle hash, which each enqueue reads
        // whole, does not grow with every worker killed over the queue's life.
        var (dead, deadConnection) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        await LookEmptyAsync(dead, "g", 4);
        var entry = (string)(await _admin.GetDatabase().HashGetAllAsync(IdleKey("g"))).Single().Value!;
        await deadConnection.CloseAsync(allowCommandsToComplete: false);
        var until = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(entry.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture));
        var left = until - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }

        var id = await producer.EnqueueAsync("g", New(Small()));
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(id))!.State);
        Assert.Equal(0, await _admin.GetDatabase().HashLengthAsync(IdleKey("g")));
    }

    [Fact]
    public async Task An_idle_entry_whose_worker_number_no_record_can_hold_is_passed_over()
    {
        // Input: a fresh entry with room written by hand whose worker number has 300 digits (a
        // record keeps at most 255 bytes of worker). Expected: passed over like any entry that
        // cannot be read: the enqueue succeeds and stores its task Pending, and the next one too
        // (the queue is not blocked), and a fetch runs them.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        var future = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds();
        await _admin.GetDatabase().HashSetAsync(IdleKey("z"), "long", $"{new string('7', 300)} 4 60000 {future}");

        var ids = new[] { await producer.EnqueueAsync("z", New(Small(1))), await producer.EnqueueAsync("z", New(Small(2))) };
        Assert.Equal(2, (await producer.CountAsync("z")).Pending);
        using var cts = new CancellationTokenSource(Bound);
        var leases = await worker.FetchAsync(["z"], 2, cts.Token);
        Assert.Equal(ids, leases.Select(l => l.Id));
        foreach (var lease in leases)
        {
            await SucceedAsync(worker, lease);
        }
    }

    [Fact]
    public async Task An_enqueue_whose_start_cannot_be_published_answers_its_id_and_the_task_runs_once()
    {
        // Input: a producer connected as an ACL user allowed the store's wake, done and cancel
        // channels but not the hand-off channels (its PUBLISH there is refused, NOPERM), nor the
        // PUBSUB command (the enqueue's NUMSUB of an idle worker's channel is refused too, and
        // the worker taken for live), and a worker (lease 1 s) waiting idle. Expected: the enqueue answers the task's id (the task
        // is stored, Started for that worker: an error would make the caller send it again);
        // the start never arrives, so the task comes back by recovery once its lease expired,
        // and runs once.
        var (worker, _) = await OpenAsync(lease: TimeSpan.FromSeconds(1));
        var (rescuer, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var user = "u" + _prefix;
        foreach (var server in _admin.GetServers())
        {
            await server.ExecuteAsync("ACL", "SETUSER", user, "on", ">pw", "~*", "+@all", "-pubsub", "resetchannels",
                $"&{_prefix}:store:wake", $"&{_prefix}:store:done", $"&{_prefix}:store:cancel");
        }

        var config = ConfigurationOptions.Parse(Endpoint);
        config.User = user;
        config.Password = "pw";
        config.ConfigurationChannel = string.Empty;
        var connection = await ConnectionMultiplexer.ConnectAsync(config);
        _owned.Add(connection);
        var producer = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = _prefix });
        _owned.Add(producer);
        using var cts = new CancellationTokenSource(Bound);
        var fetching = await WaitingFetchAsync(worker, "a", 4, cts.Token);

        var id = await producer.EnqueueAsync("a", New(Small(6)));
        Assert.Equal(TaskState.Started, (await producer.GetAsync(id))!.State);
        Assert.False(fetching.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetching.WaitAsync(Bound));

        // The rescuer's first recovery looks at the queue: it comes once the lease has expired.
        var seq = Sequence(id).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Poll.UntilAsync(async () => await _admin.GetDatabase().SortedSetScoreAsync(Key(_prefix, "a", "leases"), seq) < DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "the lease of the unheard start expired", Bound);
        Assert.Equal(1, await rescuer.RecoverAsync(["a"]));
        using var again = new CancellationTokenSource(Bound);
        var lease = Assert.Single(await rescuer.FetchAsync(["a"], 4, again.Token));
        Assert.Equal((id, 1), (lease.Id, lease.Attempt));
        await SucceedAsync(rescuer, lease);
        Assert.Equal(1, (await producer.CountAsync("a")).Succeeded);
    }

    [Fact]
    public async Task Consecutive_enqueues_to_a_queue_with_two_idle_workers_are_handed_one_to_each()
    {
        // Input: two workers waiting in fetches of queue e with room 2 each (registered idle one
        // after the other), then two enqueues of one task each. Expected: each worker is handed
        // one (the next task goes to the worker with the most room), as their fetches would have
        // shared them; not both to the first registered while the other stays idle (a worker
        // runs what it is handed at its own pace: with fewer executors than its prefetch, the
        // second task would wait behind the first).
        var (first, _) = await OpenAsync();
        var (second, _) = await OpenAsync();
        var (producer, _) = await OpenAsync();
        using var cts = new CancellationTokenSource(Bound);
        var one = await WaitingFetchAsync(first, "e", 2, cts.Token);
        var two = await WaitingFetchAsync(second, "e", 2, cts.Token, idle: 2);

        var a = await producer.EnqueueAsync("e", New(Small(1)));
        var b = await producer.EnqueueAsync("e", New(Small(2)));
        var mine = Assert.Single(await one.WaitAsync(Bound));
        var theirs = Assert.Single(await two.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal((a, b), (mine.Id, theirs.Id));
        await SucceedAsync(first, mine);
        await SucceedAsync(second, theirs);
    }

    [Fact]
    public async Task A_leases_key_of_another_type_hands_nothing_and_the_enqueue_stores_its_task_pending()
    {
        // Input: a worker registered idle on queue lt (its entry standing), then P:{lt}:leases made
        // a string. Expected: the enqueue answers its id with no error (the hand-off's lease ZADD
        // would fail there: it is never tried), the task is stored Pending, not Started, the
        // string and the idle entry are left as they are.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        var db = _admin.GetDatabase();
        await LookEmptyAsync(worker, "lt", 4);
        Assert.Equal(1, await db.HashLengthAsync(IdleKey("lt")));
        await db.StringSetAsync(Key(_prefix, "lt", "leases"), "someone else's");

        var id = await producer.EnqueueAsync("lt", New(Small()));
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(id))!.State);
        Assert.Equal("someone else's", (string?)await db.StringGetAsync(Key(_prefix, "lt", "leases")));
        Assert.Equal(1, await db.HashLengthAsync(IdleKey("lt")));
        Assert.Equal(0, worker.HandedCount);
    }

    [Fact]
    public async Task An_idle_key_of_another_type_is_left_as_it_is_and_tasks_go_the_usual_way()
    {
        // Input: P:{w}:idle is a string. Expected: an empty fetch succeeds (registers nothing, the
        // string is untouched), an enqueue stores its task Pending (no error), a fetch runs it.
        var (worker, _) = await OpenAsync(idleFetch: TimeSpan.FromMilliseconds(100));
        var (producer, _) = await OpenAsync();
        var db = _admin.GetDatabase();
        await db.StringSetAsync(IdleKey("w"), "someone else's");
        await LookEmptyAsync(worker, "w", 4);

        var id = await producer.EnqueueAsync("w", New(Small()));
        Assert.Equal(TaskState.Pending, (await producer.GetAsync(id))!.State);
        Assert.Equal("someone else's", (string?)await db.StringGetAsync(IdleKey("w")));
        using var cts = new CancellationTokenSource(Bound);
        var lease = Assert.Single(await worker.FetchAsync(["w"], 1, cts.Token));
        Assert.Equal(id, lease.Id);
        await SucceedAsync(worker, lease);
    }
}

/// <summary>Hand-offs on a single server.</summary>
public sealed class StandaloneHandOffTests(RedisFixture redis) : HandOffTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;

    protected override bool CountsSubscribers => true;
}

/// <summary>Hand-offs on a 3-master Cluster (the start is published on the queue's node, heard on the worker's subscription node).</summary>
public sealed class ClusterHandOffTests(RedisClusterFixture cluster) : HandOffTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;

    protected override bool CountsSubscribers => false;
}

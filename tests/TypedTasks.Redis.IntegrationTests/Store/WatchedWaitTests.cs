using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// Waits on tasks a store enqueued while its done subscription was up read nothing (INFO
/// commandstats: no script call, the only one a wait makes being the read); every doubt reads.
/// The store under test ("this process") sweeps once a minute, so that a wait that ends within
/// the test's bound ended on a frame or on a read of its own, never on the sweep. Other stores,
/// on connections of their own, play the worker and another producer.
/// </summary>
public abstract class WatchedWaitTests : IAsyncLifetime
{
    private const int N = 200;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _prefix = "ww" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IAsyncDisposable> _owned = [];
    private ConnectionMultiplexer _lastConnection = null!;
    private ConnectionMultiplexer _admin = null!;
    private ConnectionMultiplexer _storeConnection = null!;
    private RedisTaskStore _store = null!;
    private RedisTaskStore _worker = null!;

    protected abstract string Endpoint { get; }

    public async Task InitializeAsync()
    {
        _admin = await ConnectionMultiplexer.ConnectAsync(Endpoint + ",allowAdmin=true");
        _store = await OpenAsync(TimeSpan.FromMinutes(1));
        _storeConnection = _lastConnection;
        _worker = await OpenAsync(TimeSpan.FromMinutes(1));
    }

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _admin.DisposeAsync();
    }

    /// <summary>A store on a connection of its own, as another process has.</summary>
    private async Task<RedisTaskStore> OpenAsync(TimeSpan sweep)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = _prefix, IdleFetchInterval = TimeSpan.FromMilliseconds(200), ResultPollInterval = sweep }, TimeSpan.FromMinutes(10));
        _owned.Add(connection);
        _owned.Add(store);
        _lastConnection = connection;
        return store;
    }

    /// <summary>Runs one task through the worker and waits for it, so that the store's subscription is up and it knows the worker.</summary>
    private async Task WarmUpAsync(RedisTaskStore store)
    {
        var id = await store.EnqueueAsync("ww", New(Small()));
        await CompleteAsync("ww", 1);
        Assert.Equal(TaskState.Succeeded, (await store.WaitAsync(id, Bound)).State);
        await Poll.UntilAsync(() => Task.FromResult(store.WatchingEnqueues), "the store watches its enqueues", Bound);
    }

    /// <summary>The worker fetches and completes <paramref name="count"/> tasks of the queue, each with its id as result.</summary>
    private async Task CompleteAsync(string queue, int count)
    {
        using var cts = new CancellationTokenSource(Bound);
        for (var done = 0; done < count;)
        {
            var leases = await _worker.FetchAsync([queue], count - done, cts.Token);
            foreach (var lease in leases)
            {
                Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Succeeded(System.Text.Encoding.UTF8.GetBytes(lease.Id))));
            }

            done += leases.Count;
        }
    }

    private IServer[] Servers => [.. _admin.GetServers().Where(s => !s.IsReplica)];

    private Task ResetStatsAsync() => ScriptCalls.ResetAsync(_admin);

    /// <summary>Script calls on every master since the last reset.</summary>
    private Task<long> ScriptCallsAsync() => ScriptCalls.CountAsync(_admin);

    /// <summary>A wait on a task sent back to run: nothing after 200 ms (its state, if it returned), then the next run's success.</summary>
    private async Task AssertWaitsForTheNextRunAsync(string id)
    {
        var waiting = _store.WaitAsync(id, Bound).AsTask();
        var early = await Task.WhenAny(waiting, Task.Delay(200)) == waiting ? (await waiting).State.ToString() : "nothing";
        Assert.Equal("nothing", early);
        await CompleteAsync("ww", 1);
        var info = await waiting.WaitAsync(Bound);
        Assert.Equal((TaskState.Succeeded, id), (info.State, System.Text.Encoding.UTF8.GetString(info.Result.Span)));
    }

    private static void AssertResults(IReadOnlyList<string> ids, TaskInfo[] infos)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal((ids[i], TaskState.Succeeded, ids[i]), (infos[i].Id, infos[i].State, System.Text.Encoding.UTF8.GetString(infos[i].Result.Span)));
        }
    }

    [Fact]
    public async Task Waits_on_tasks_it_enqueued_read_nothing_while_they_wait_nor_when_they_end()
    {
        // Input: N tasks this store enqueued (one call each and one call for many), then N waits,
        // then the worker completes them. Expected: no script call while the waits wait, none
        // after the last completion, and each wait gets its own task's result.
        await WarmUpAsync(_store);
        var ids = new List<string>();
        for (var i = 0; i < N / 2; i++)
        {
            ids.Add(await _store.EnqueueAsync("ww", New(Small())));
        }

        ids.AddRange(await _store.EnqueueManyAsync("ww", [.. Enumerable.Range(0, N / 2).Select(_ => New(Small()))]));
        Assert.Equal(N, _store.WatchedCount);

        await ResetStatsAsync();
        var waits = ids.Select(id => _store.WaitAsync(id, Bound).AsTask()).ToArray();
        await Task.Delay(200);
        Assert.Equal(0, await ScriptCallsAsync());
        Assert.DoesNotContain(waits, w => w.IsCompleted);

        await CompleteAsync("ww", N);
        await ResetStatsAsync();
        AssertResults(ids, await Task.WhenAll(waits).WaitAsync(Bound));
        Assert.Equal(0, await ScriptCallsAsync());
    }

    [Fact]
    public async Task A_task_that_ended_before_its_wait_began_is_found_without_a_read()
    {
        // Input: N tasks this store enqueued, all completed (their frames heard) before any wait.
        // Expected: the N waits make no script call and get each its own result, twice over.
        await WarmUpAsync(_store);
        var ids = await _store.EnqueueManyAsync("ww", [.. Enumerable.Range(0, N).Select(_ => New(Small()))]);
        await CompleteAsync("ww", N);
        await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == N), "every frame is kept", Bound);

        await ResetStatsAsync();
        AssertResults(ids, await Task.WhenAll(ids.Select(id => _store.WaitAsync(id, Bound).AsTask())).WaitAsync(Bound));
        AssertResults(ids, await Task.WhenAll(ids.Select(id => _store.WaitAsync(id, Bound).AsTask())).WaitAsync(Bound));
        Assert.Equal(0, await ScriptCallsAsync());
    }

    [Fact]
    public async Task After_the_subscription_is_killed_nothing_is_watched_waits_read_and_end_and_watching_comes_back()
    {
        // Input: N watched tasks; the store's subscriber connection is killed (CLIENT KILL TYPE
        // pubsub on every node); half the tasks are completed, then the waits start, then the rest
        // is completed. Expected: the watches are dropped, every wait ends with its result well
        // within the bound (the sweep, once a minute, cannot be what ends them), and once the
        // subscription is back new enqueues are watched again.
        await WarmUpAsync(_store);
        var ids = await _store.EnqueueManyAsync("ww", [.. Enumerable.Range(0, N).Select(_ => New(Small()))]);
        Assert.Equal(N, _store.WatchedCount);

        foreach (var server in Servers)
        {
            await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        }

        await Poll.UntilAsync(() => Task.FromResult(_store.WatchedCount == 0), "the watches are dropped", Bound);
        await CompleteAsync("ww", N / 2);
        await ResetStatsAsync();
        var waits = ids.Select(id => _store.WaitAsync(id, Bound).AsTask()).ToArray();
        await CompleteAsync("ww", N / 2);
        AssertResults(ids, await Task.WhenAll(waits).WaitAsync(Bound));
        Assert.True(await ScriptCallsAsync() > 0, "the waits read their tasks");

        await Poll.UntilAsync(async () =>
        {
            await _store.WaitAsync(ids[0], Bound); // a wait probes the subscription while it is not confirmed
            return _store.WatchingEnqueues;
        }, "the subscription is confirmed again", Bound);
        var again = await _store.EnqueueAsync("ww", New(Small()));
        Assert.Equal(1, _store.WatchedCount);
        await CompleteAsync("ww", 1);
        Assert.Equal(again, (await _store.WaitAsync(again, Bound)).Id);
    }

    [Fact]
    public async Task A_task_of_another_store_is_read()
    {
        // Input: tasks enqueued by another store (another process), one already completed and one
        // completed while waited for. Expected: this store watches neither; the wait on the
        // completed one reads it (no frame will come) and returns at once, the other wakes.
        await WarmUpAsync(_store);
        var other = await OpenAsync(TimeSpan.FromMinutes(1));
        var ended = await other.EnqueueAsync("ww", New(Small()));
        await CompleteAsync("ww", 1);
        var later = await other.EnqueueAsync("ww", New(Small()));
        Assert.Equal(0, _store.WatchedCount);

        await ResetStatsAsync();
        Assert.Equal(ended, (await _store.WaitAsync(ended, Bound).AsTask().WaitAsync(Bound)).Id);
        Assert.True(await ScriptCallsAsync() > 0, "the wait read the task");
        var waiting = _store.WaitAsync(later, Bound).AsTask();
        await CompleteAsync("ww", 1);
        Assert.Equal(later, (await waiting.WaitAsync(Bound)).Id);
    }

    [Fact]
    public async Task A_watched_task_deleted_by_another_store_ends_a_wait_begun_before_with_task_not_found_at_once()
    {
        // Input: a store sweeping once a minute waits on a pending task it watches (no read);
        // another store (another process) deletes it. Expected: the delete withdraws the task on
        // the done channel, the waiter reads it at once and throws TaskNotFoundException, long
        // before the first sweep.
        var store = await OpenAsync(TimeSpan.FromMinutes(1));
        await WarmUpAsync(store);
        var id = await store.EnqueueAsync("ww", New(Small()));
        var waiting = store.WaitAsync(id, Bound).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        var other = await OpenAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await other.DeleteAsync([id]));

        var error = await Assert.ThrowsAsync<TaskNotFoundException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((id, false), (error.TaskId, error.Lost));
    }

    [Fact]
    public async Task A_watched_task_deleted_by_another_store_ends_a_wait_begun_after_with_task_not_found()
    {
        // Input: a store sweeping every 100 ms watches a pending task; another store (another
        // process) deletes it, so no final frame will ever come. Expected: the wait throws
        // TaskNotFoundException (it reads once the delete's withdrawal is heard; the sweep reads
        // it if that was lost), well before its 30 s timeout.
        var store = await OpenAsync(TimeSpan.FromMilliseconds(100));
        await WarmUpAsync(store);
        var id = await store.EnqueueAsync("ww", New(Small()));
        Assert.True(store.IsWatched(id));
        var other = await OpenAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await other.DeleteAsync([id]));

        var error = await Assert.ThrowsAsync<TaskNotFoundException>(() => store.WaitAsync(id, Bound).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((id, false), (error.TaskId, error.Lost));
    }

    [Fact]
    public async Task Chosen_ids_and_unique_keys_are_not_watched_since_they_may_name_a_task_that_was_there()
    {
        // Input: a chosen id already used by a task that ended, and a unique key held by a pending
        // task. Expected: the enqueues answer with those tasks' ids and watch nothing; the wait
        // on the ended one reads it and returns its outcome.
        await WarmUpAsync(_store);
        var first = await _store.EnqueueAsync("ww", New(Small(), chosen: "mine"));
        await CompleteAsync("ww", 1);
        Assert.Equal(first, await _store.EnqueueAsync("ww", New(Small(), chosen: "mine")));
        var unique = new TaskToEnqueue(Small(), 0) { UniqueKey = "u1", UniqueFor = TimeSpan.FromMinutes(1) };
        var locked = await _store.EnqueueAsync("ww", unique);
        Assert.Equal(locked, await _store.EnqueueAsync("ww", unique));
        Assert.Equal(0, _store.WatchedCount);
        Assert.Equal(TaskState.Succeeded, (await _store.WaitAsync(first, Bound).AsTask().WaitAsync(Bound)).State);
    }

    [Fact]
    public async Task A_frame_heard_before_the_enqueue_is_answered_leaves_the_task_unwatched_and_its_wait_reads()
    {
        // Input: the store's connection to the queue's node is held by a BLPOP for 1 s; an enqueue
        // is sent behind it, and meanwhile a frame naming the id it will get is published (a
        // made-up final record). Expected: the task is not watched (its frame may have come before
        // the answer), and its wait reads it: pending, not the made-up outcome; it then ends with
        // the worker's result.
        await WarmUpAsync(_store);
        var last = await _store.EnqueueAsync("ww", New(Small()));
        await CompleteAsync("ww", 1);
        var next = $"{last[..(last.IndexOf('-', StringComparison.Ordinal) + 1)]}{Sequence(last) + 1}@ww";

        // The key is in the queue's hash slot: on a Cluster too it holds the enqueue's connection.
        var blocked = _storeConnection.GetDatabase().ExecuteAsync("BLPOP", Key(_prefix, "ww", "nothing"), 1);
        var enqueue = _store.EnqueueAsync("ww", New(Small())).AsTask();
        await Task.Delay(100);
        Assert.False(enqueue.IsCompleted);
        var record = (byte[])(await _admin.GetDatabase().HashGetAsync(Bucket(_prefix, "ww", last), Sequence(last)))!;
        var id = System.Text.Encoding.UTF8.GetBytes(next);
        var frame = new byte[6 + id.Length + record.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)id.Length);
        id.CopyTo(frame, 2);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(2 + id.Length), record.Length);
        record.CopyTo(frame, 6 + id.Length);
        var heard = _store.HeardFrames;
        await _admin.GetSubscriber().PublishAsync(RedisChannel.Literal(_prefix + ":store:done"), frame);
        await Poll.UntilAsync(() => Task.FromResult(_store.HeardFrames > heard), "the frame is heard", Bound);
        Assert.False(enqueue.IsCompleted);

        Assert.Equal(next, await enqueue.WaitAsync(Bound));
        await blocked.WaitAsync(Bound);
        Assert.True(_store.IsWatched(last));
        Assert.False(_store.IsWatched(next));
        var waiting = _store.WaitAsync(next, Bound).AsTask();
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted, "the wait read the task, pending, rather than take the made-up frame");
        await CompleteAsync("ww", 1);
        var info = await waiting.WaitAsync(Bound);
        Assert.Equal((TaskState.Succeeded, next), (info.State, System.Text.Encoding.UTF8.GetString(info.Result.Span)));
    }

    [Fact]
    public async Task The_watches_and_the_kept_frames_stay_within_their_bounds()
    {
        // Input: a store that watches at most 50 tasks and keeps frames for 300 ms (sweeping every
        // 100 ms); 500 tasks enqueued and completed. Expected: 50 watched (the newest); a wait on
        // an older one reads, on a newer one reads nothing; once 300 ms passed with no wait, no
        // frame is kept and nothing is watched, and a wait reads again.
        var store = await OpenAsync(TimeSpan.FromMilliseconds(100));
        store.WatchLimit = 50;
        store.KeepFor = TimeSpan.FromMilliseconds(300);
        await WarmUpAsync(store);
        var ids = await store.EnqueueManyAsync("ww", [.. Enumerable.Range(0, 500).Select(_ => New(Small()))]);
        Assert.Equal(50, store.WatchedCount);
        store.KeepFor = TimeSpan.FromMinutes(1);
        await CompleteAsync("ww", 500);
        await Poll.UntilAsync(() => Task.FromResult(store.KeptCount == 50), "the newest 50 frames are kept", Bound);

        await ResetStatsAsync();
        Assert.Equal(ids[^1], (await store.WaitAsync(ids[^1], Bound)).Id);
        Assert.Equal(0, await ScriptCallsAsync());
        Assert.Equal(ids[0], (await store.WaitAsync(ids[0], Bound)).Id);
        Assert.True(await ScriptCallsAsync() > 0, "the wait on an unwatched task read it");

        store.KeepFor = TimeSpan.FromMilliseconds(300);
        await Poll.UntilAsync(() => Task.FromResult(store.WatchedCount == 0), "the kept frames expire", Bound);
        await ResetStatsAsync();
        Assert.Equal(ids[^2], (await store.WaitAsync(ids[^2], Bound)).Id);
        Assert.True(await ScriptCallsAsync() > 0, "the wait on a task whose frame expired read it");
    }

    [Fact]
    public async Task A_frame_larger_than_the_kept_bytes_bound_is_not_kept_and_its_wait_reads()
    {
        // Input: a store that keeps at most 100 record bytes; one task whose result is 1,000
        // bytes. Expected: its frame is not kept, the task is no longer watched, and the wait
        // reads it and returns the whole result.
        _store.KeptBytesLimit = 100;
        await WarmUpAsync(_store);
        var id = await _store.EnqueueAsync("ww", New(Small()));
        Assert.Equal(1, _store.WatchedCount);
        var lease = Assert.Single(await _worker.FetchAsync(["ww"], 1, CancellationToken.None));
        Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[1000])));
        await Poll.UntilAsync(() => Task.FromResult(_store.WatchedCount == 0), "the large frame is dropped", Bound);
        await ResetStatsAsync();
        Assert.Equal(1000, (await _store.WaitAsync(id, Bound)).Result.Length);
        Assert.True(await ScriptCallsAsync() > 0, "the wait read the task");
    }

    [Fact]
    public async Task Deleted_and_requeued_tasks_are_no_longer_watched_and_their_waits_read()
    {
        // Input: a watched pending task deleted, and a watched task that failed (its frame kept)
        // requeued, both through this store. Expected: neither is watched after; the wait on the
        // deleted one throws TaskNotFoundException at once, the one on the requeued one waits for
        // its new run rather than return the old failure.
        await WarmUpAsync(_store);
        var deleted = await _store.EnqueueAsync("ww", New(Small()));
        Assert.Equal(1, await _store.DeleteAsync([deleted]));
        var requeued = await _store.EnqueueAsync("ww", New(Small()));
        var lease = Assert.Single(await _worker.FetchAsync(["ww"], 1, CancellationToken.None));
        Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "first run", null))));
        await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == 1), "the failure's frame is kept", Bound);
        Assert.Equal(1, await _store.RequeueAsync([requeued]));
        Assert.Equal(0, _store.WatchedCount);

        await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.WaitAsync(deleted, Bound).AsTask().WaitAsync(Bound));
        await AssertWaitsForTheNextRunAsync(requeued);
    }

    [Fact]
    public async Task A_wait_that_begins_while_its_frame_is_being_read_ends_on_that_frame()
    {
        // Input: a watched task completed; its wait begins after the store heard the task's frame
        // and before it kept it (the store's hook between the two, on the thread reading the
        // frame). Expected: the wait ends on that frame within 10 s (the sweep runs once a
        // minute), not left to the sweep because the frame found no waiter and the wait found no
        // kept frame.
        await WarmUpAsync(_store);
        var id = await _store.EnqueueAsync("ww", New(Small()));
        var lease = Assert.Single(await _worker.FetchAsync(["ww"], 1, CancellationToken.None));
        Task<TaskInfo>? waiting = null;
        var keptThen = -1;
        _store.BeforeKeep = heard =>
        {
            if (heard == id)
            {
                keptThen = _store.KeptCount;
                waiting = _store.WaitAsync(id, Bound).AsTask();
            }
        };
        Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 0x2a })));
        await Poll.UntilAsync(() => Task.FromResult(waiting is not null), "the wait begins before the frame is kept", Bound);
        Assert.Equal(0, keptThen);
        var info = await waiting!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((id, TaskState.Succeeded, 1), (info.Id, info.State, info.Result.Length));
    }

    [Fact]
    public async Task A_result_heard_with_a_large_one_holds_only_its_own_bytes()
    {
        // Input: two watched tasks completed in one call (one done message of two frames), A with
        // a 1-byte result, B with a 4 MiB one. Expected: A's result, as its wait returns it, is
        // backed by an array of about its record's size, not by the message with B's 4 MiB
        // (which a kept frame or a caller holding A's result would keep alive).
        await WarmUpAsync(_store);
        var a = await _store.EnqueueAsync("ww", New(Small(1)));
        var b = await _store.EnqueueAsync("ww", New(Small(2)));
        var leases = await FetchAllAsync("ww", 2);
        using (StoreCallHold.Open())
        {
            _ = _worker.CompleteAsync(leases.Single(l => l.Id == a), TaskCompletion.Succeeded(new byte[] { 1 })).AsTask();
            _ = _worker.CompleteAsync(leases.Single(l => l.Id == b), TaskCompletion.Succeeded(new byte[4 << 20])).AsTask();
        }

        var info = await _store.WaitAsync(a, Bound);
        Assert.Equal(1, info.Result.Length);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(info.Result, out var backing));
        Assert.True(backing.Array!.Length < 4096, $"A's 1-byte result is backed by {backing.Array.Length} B");
        Assert.Equal(4 << 20, (await _store.WaitAsync(b, Bound)).Result.Length);
    }

    [Fact]
    public async Task A_lease_fetched_with_a_large_envelope_holds_only_its_own()
    {
        // Input: a 4 MiB envelope and a small one, fetched in one call. Expected: the small
        // lease's envelope is backed by an array of about its own size, not by the fetch's answer
        // with the 4 MiB one (which the small task's run would keep alive); both envelopes intact.
        var large = new byte[4 << 20];
        Small(3).CopyTo(large, 0);
        await _store.EnqueueAsync("wf", New(large));
        var small = await _store.EnqueueAsync("wf", New(Small(4)));
        var leases = await FetchAllAsync("wf", 2);
        var lease = leases.Single(l => l.Id == small);
        Assert.Equal(Small(4), lease.Envelope.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(lease.Envelope, out var backing));
        Assert.True(backing.Array!.Length < 4096, $"the small lease's envelope is backed by {backing.Array.Length} B");
        Assert.Equal(large, leases.Single(l => l.Id != small).Envelope.ToArray());
    }

    /// <summary>Fetches until <paramref name="count"/> leases of the queue are held.</summary>
    private async Task<List<TaskLease>> FetchAllAsync(string queue, int count)
    {
        using var cts = new CancellationTokenSource(Bound);
        var leases = new List<TaskLease>();
        while (leases.Count < count)
        {
            leases.AddRange(await _worker.FetchAsync([queue], count - leases.Count, cts.Token));
        }

        return leases;
    }

    [Fact]
    public async Task Two_waits_on_one_task_each_continue_without_waiting_for_the_other()
    {
        // Input: two waits on one watched task; each, once it has the outcome, blocks (as
        // sync-over-async code does) until the other has it too. Expected: both get there within
        // 10 s: neither's continuation runs only after the other's returned.
        await WarmUpAsync(_store);
        var id = await _store.EnqueueAsync("ww", New(Small()));
        using var first = new ManualResetEventSlim();
        using var second = new ManualResetEventSlim();
        async Task<bool> WaitThenBlock(ManualResetEventSlim mine, ManualResetEventSlim other)
        {
            await _store.WaitAsync(id, Bound);
            mine.Set();
            return other.Wait(TimeSpan.FromSeconds(10));
        }

        var waits = new[] { Task.Run(() => WaitThenBlock(first, second)), Task.Run(() => WaitThenBlock(second, first)) };
        await Task.Delay(200);
        await CompleteAsync("ww", 1);
        var seen = await Task.WhenAll(waits).WaitAsync(Bound);
        Assert.Equal((true, true), (seen[0], seen[1]));
    }

    [Fact]
    public async Task A_kept_outcome_is_not_returned_after_another_store_requeued_the_task()
    {
        // Input: a watched task that failed (its frame kept), then requeued by another store
        // (another process: an operator's retry). Expected: the requeue withdraws the task on the
        // done channel, this store forgets the kept failure (it stops watching the task), and a
        // wait that begins then waits for the new run and returns its success, rather than the
        // failure of the run before.
        await WarmUpAsync(_store);
        var id = await _store.EnqueueAsync("ww", New(Small()));
        var lease = Assert.Single(await _worker.FetchAsync(["ww"], 1, CancellationToken.None));
        Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "first run", null))));
        await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == 1), "the failure's frame is kept", Bound);
        var other = await OpenAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await other.RequeueAsync([id]));
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(id))!.State);
        await Poll.UntilAsync(() => Task.FromResult(!_store.IsWatched(id) && _store.KeptCount == 0), "the requeue's withdrawal is heard and the kept failure forgotten", Bound);

        await AssertWaitsForTheNextRunAsync(id);
    }

    [Fact]
    public async Task A_kept_outcome_is_not_returned_after_another_store_deleted_the_task()
    {
        // Input: a watched task that succeeded (its frame kept), then deleted by another store.
        // Expected: the delete withdraws the task on the done channel; this store forgets the kept
        // outcome, and a wait that begins then reads and throws TaskNotFoundException (not the
        // success of a task that is gone), well before the sweep (once a minute here).
        await WarmUpAsync(_store);
        var id = await _store.EnqueueAsync("ww", New(Small()));
        await CompleteAsync("ww", 1);
        await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == 1), "the success's frame is kept", Bound);
        var other = await OpenAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await other.DeleteAsync([id]));
        await Poll.UntilAsync(() => Task.FromResult(!_store.IsWatched(id) && _store.KeptCount == 0), "the delete's withdrawal is heard and the kept success forgotten", Bound);

        var error = await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.WaitAsync(id, Bound).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((id, false), (error.TaskId, error.Lost));
    }

    [Fact]
    public async Task A_watched_task_retried_by_its_worker_is_waited_for_until_a_run_ends_it()
    {
        // Input: a watched task whose first run ends in a retry (Retrying, due at once), then is
        // promoted and run to success; one wait begins before the retry, one after. Expected:
        // neither ends at the retry and nothing is kept for it (a retry is not final); both end
        // with the success.
        await WarmUpAsync(_store);
        var id = await _store.EnqueueAsync("ww", New(Small()));
        var before = _store.WaitAsync(id, Bound).AsTask();
        var lease = Assert.Single(await _worker.FetchAsync(["ww"], 1, CancellationToken.None));
        Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Retry(new TaskError("E", "first run", null), DateTimeOffset.UtcNow)));
        var after = _store.WaitAsync(id, Bound).AsTask();
        await Task.Delay(200);
        Assert.Equal((false, false, 0, true), (before.IsCompleted, after.IsCompleted, _store.KeptCount, _store.IsWatched(id)));

        await Poll.UntilAsync(async () => { await _worker.PromoteDueAsync(["ww"]); return (await _worker.CountAsync("ww")).Pending == 1; }, "the retry is promoted", Bound);
        await CompleteAsync("ww", 1);
        foreach (var wait in new[] { before, after })
        {
            var info = await wait.WaitAsync(Bound);
            Assert.Equal((TaskState.Succeeded, id), (info.State, System.Text.Encoding.UTF8.GetString(info.Result.Span)));
        }
    }

    [Fact]
    public async Task Records_of_kept_frames_dropped_behind_a_live_one_are_let_go()
    {
        // Input: a store keeping at most 1 MB of records; one task completed and its frame kept
        // (never waited for), then 40 tasks each with a 256 KB result, each completed, its frame
        // kept, then deleted through this store (no longer watched). Expected: the records the
        // store still holds for kept frames stay within the 1 MB bound.
        _store.KeptBytesLimit = 1 << 20;
        await WarmUpAsync(_store);
        await _store.EnqueueAsync("ww", New(Small()));
        await CompleteAsync("ww", 1);
        await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == 1), "the first frame is kept", Bound);
        for (var i = 0; i < 40; i++)
        {
            var id = await _store.EnqueueAsync("ww", New(Small()));
            var lease = Assert.Single(await _worker.FetchAsync(["ww"], 1, CancellationToken.None));
            Assert.True(await _worker.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[256 << 10])));
            await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == 2), "the frame is kept", Bound);
            Assert.Equal(1, await _store.DeleteAsync([id]));
        }

        Assert.Equal(1, _store.KeptCount);
        var (held, _) = HeldKept(_store);
        Assert.True(held <= 1 << 20, $"{held} bytes of kept records held");

        // And 300 more, small, deleted in one call: their entries do not all stay behind the first.
        var more = await _store.EnqueueManyAsync("ww", [.. Enumerable.Range(0, 300).Select(_ => New(Small()))]);
        await CompleteAsync("ww", 300);
        await Poll.UntilAsync(() => Task.FromResult(_store.KeptCount == 301), "their frames are kept", Bound);
        Assert.Equal(300, await _store.DeleteAsync(more));
        var (_, entries) = HeldKept(_store);
        Assert.True(entries <= 66, $"{entries} kept entries for 1 kept frame");
    }

    /// <summary>
    /// The record bytes the store's kept frames still reference, dropped or not, and the entries
    /// of its kept order (read through reflection: they are what the bound is about).
    /// </summary>
    private static (long Bytes, int Entries) HeldKept(RedisTaskStore store)
    {
        const System.Reflection.BindingFlags Private = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        var gate = typeof(RedisTaskStore).GetField("_gate", Private)!.GetValue(store)!;
        var order = (System.Collections.IEnumerable)typeof(RedisTaskStore).GetField("_keptOrder", Private)!.GetValue(store)!;
        long held = 0;
        var entries = 0;
        lock (gate)
        {
            foreach (var entry in order)
            {
                entries++;
                var kept = entry.GetType().GetField("Item2")!.GetValue(entry)!;
                if (kept.GetType().GetProperty("Record")!.GetValue(kept) is not null)
                {
                    held += (int)kept.GetType().GetProperty("Bytes")!.GetValue(kept)!;
                }
            }
        }

        return (held, entries);
    }
}

/// <summary>Watched waits on a single server.</summary>
public sealed class StandaloneWatchedWaitTests(RedisFixture redis) : WatchedWaitTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>Watched waits on a 3-master Cluster (frames published on one node reach the subscriber on another).</summary>
public sealed class ClusterWatchedWaitTests(RedisClusterFixture cluster) : WatchedWaitTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

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
using TypedTasks.Transport;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// The Redis task store against a real server (and, in a subclass, a 3-master Cluster): its
/// transitions, lost-data detection, the 0.1 upgrade, and, for each script that writes, a call
/// whose write is made to fail (a key of another Redis type where it writes) after which every
/// task is found where it was.
/// </summary>
public abstract class RedisTaskStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _prefix = "st" + Guid.NewGuid().ToString("N")[..8];
    private ConnectionMultiplexer _connection = null!;
    private RedisTaskStore _store = null!;

    protected abstract string Endpoint { get; }

    private IDatabase Raw => _connection.GetDatabase();

    public async Task InitializeAsync()
    {
        _connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        _store = Open();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private RedisTaskStore Open(Action<RedisTransportOptions>? configure = null, TimeSpan? ttl = null)
    {
        var options = new RedisTransportOptions { KeyPrefix = _prefix, IdleFetchInterval = TimeSpan.FromMilliseconds(300) };
        configure?.Invoke(options);
        return new RedisTaskStore(_connection, options, ttl ?? TimeSpan.FromMinutes(10));
    }

    private RedisKey K(string queue, string suffix) => Key(_prefix, queue, suffix);

    private async Task<TaskLease> FetchOneAsync(string queue, RedisTaskStore? store = null)
    {
        using var cts = new CancellationTokenSource(Bound);
        while (true)
        {
            var leases = await (store ?? _store).FetchAsync([queue], 1, cts.Token);
            if (leases.Count == 1)
            {
                return leases[0];
            }
        }
    }

    // ---- Transitions ----

    [Fact]
    public async Task A_task_goes_from_pending_through_started_to_succeeded_and_a_waiter_gets_its_result()
    {
        var id = await _store.EnqueueAsync("q", New());
        Assert.EndsWith("@q", id, StringComparison.Ordinal);
        var pending = await _store.GetAsync(id);
        Assert.Equal((TaskState.Pending, 0, "Add", "q"), (pending!.State, pending.Attempt, pending.TaskName, pending.Queue));

        var waiting = _store.WaitAsync(id, Bound).AsTask();
        var lease = await FetchOneAsync("q");
        Assert.Equal((id, 1, 1L), (lease.Id, lease.Attempt, lease.Fence));
        var started = await _store.GetAsync(id);
        Assert.Equal((TaskState.Started, Worker.WorkerIdentity.Name), (started!.State, started.Worker));

        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 0x2a })));
        var done = await waiting;
        Assert.Equal((TaskState.Succeeded, 1, (byte)0x2a), (done.State, done.Attempt, done.Result.Span[0]));
        Assert.Equal(1, (await _store.CountAsync("q")).Succeeded);
        var stored = await _store.GetStoredAsync(id);
        Assert.True(stored!.Envelope.IsEmpty); // dropped once succeeded
        Assert.Equal(id, Assert.Single(await _store.ListAsync("q", TaskState.Succeeded, 0, 10)).Info.Id);
    }

    [Fact]
    public async Task Fetch_takes_the_highest_priority_first_and_the_oldest_first_within_one()
    {
        var low = await _store.EnqueueAsync("q", New(priority: 1));
        var high1 = await _store.EnqueueAsync("q", New(priority: 8));
        var high2 = await _store.EnqueueAsync("q", New(priority: 8));
        var listed = await _store.ListAsync("q", TaskState.Pending, 0, 10);
        Assert.Equal([high1, high2, low], listed.Select(t => t.Info.Id));
        var leases = await _store.FetchAsync(["q"], 10, CancellationToken.None);
        Assert.Equal([high1, high2, low], leases.Select(l => l.Id));
    }

    [Fact]
    public async Task A_fetch_waiting_on_an_empty_queue_is_woken_by_an_enqueue_before_its_idle_interval()
    {
        await using var store = Open(o => o.IdleFetchInterval = TimeSpan.FromMinutes(5));
        using var cts = new CancellationTokenSource(Bound);
        var fetch = store.FetchAsync(["q"], 1, cts.Token).AsTask();
        await Task.Delay(200);
        Assert.False(fetch.IsCompleted);
        var id = await _store.EnqueueAsync("q", New());
        Assert.Equal(id, Assert.Single(await fetch).Id);
    }

    [Fact]
    public async Task A_chosen_id_is_enqueued_once_and_readable_by_that_id()
    {
        var first = await _store.EnqueueAsync("q", New(chosen: "order-7"));
        var again = await _store.EnqueueAsync("q", New(chosen: "order-7"));
        Assert.Equal("order-7@q", first);
        Assert.Equal(first, again);
        Assert.Equal(1, (await _store.CountAsync("q")).Pending);
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(first))!.State);
        var many = await _store.EnqueueManyAsync("q", [New(chosen: "x"), New(chosen: "x")]);
        Assert.Equal(["x@q", "x@q"], many);
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_clear_error_and_stores_nothing()
    {
        Assert.Contains("not a valid queue name", (await Assert.ThrowsAsync<ArgumentException>(() => _store.EnqueueAsync("a b", New()).AsTask())).Message, StringComparison.Ordinal);
        Assert.Contains("'@'", (await Assert.ThrowsAsync<ArgumentException>(() => _store.EnqueueAsync("a@b", New()).AsTask())).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.EnqueueAsync("q", New(priority: 10)).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _store.EnqueueAsync("q", new TaskToEnqueue(ReadOnlyMemory<byte>.Empty, 0)).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.EnqueueManyAsync("q", [New(), New(priority: -1)]).AsTask());
        Assert.Equal(0, (await _store.CountAsync("q")).Pending);
        Assert.Null(await _store.GetAsync("no-queue-here"));
        Assert.True((await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.GetAsync("abcdefgh-1@q").AsTask())).Lost); // an epoch, and no queue under it
        Assert.Null(await _store.GetAsync("order-1@q")); // a chosen id never used
    }

    [Fact]
    public async Task Released_and_recovered_tasks_go_to_the_head_without_counting_the_run_and_a_stale_lease_settles_nothing()
    {
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(50); o.WorkerTimeout = TimeSpan.FromMilliseconds(200); });
        var first = await store.EnqueueAsync("q", New());
        var second = await store.EnqueueAsync("q", New());
        var lease = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Released()));
        Assert.Equal((TaskState.Pending, 0), ((await store.GetAsync(first))!.State, (await store.GetAsync(first))!.Attempt));
        Assert.Equal([first, second], (await store.ListAsync("q", TaskState.Pending, 0, 10)).Select(t => t.Info.Id));

        lease = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
        Assert.Equal((first, 2L), (lease.Id, lease.Fence));
        await Poll.UntilAsync(async () => await store.RecoverAsync(["q"]) == 1, "the lease expires and the task is recovered", Bound);
        Assert.Equal((TaskState.Pending, 0), ((await store.GetAsync(first))!.State, (await store.GetAsync(first))!.Attempt));
        var again = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
        Assert.Equal((first, 1, 3L), (again.Id, again.Attempt, again.Fence));
        Assert.False(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        Assert.True(await store.CompleteAsync(again, TaskCompletion.Succeeded(default)));
    }

    [Fact]
    public async Task A_retry_waits_in_retrying_until_promoted_and_a_canceled_running_task_stays_canceled()
    {
        var id = await _store.EnqueueAsync("q", New());
        var lease = await FetchOneAsync("q");
        var error = new TaskError("System.Exception", "boom", null);
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Retry(error, DateTimeOffset.UtcNow.AddMilliseconds(100))));
        var retrying = await _store.GetStoredAsync(id);
        Assert.Equal((TaskState.Retrying, "boom"), (retrying!.Info.State, retrying.Info.Error!.Message));
        Assert.NotNull(retrying.DueAt);
        await Poll.UntilAsync(async () => { await _store.PromoteDueAsync(["q"]); return (await _store.CountAsync("q")).Pending == 1; }, "the retry is promoted", Bound);

        var canceledIds = new List<string>();
        await using (await _store.WatchCancellationsAsync(i => { lock (canceledIds) { canceledIds.Add(i); } }))
        {
            lease = await FetchOneAsync("q");
            Assert.Equal(2, lease.Attempt);
            Assert.True(await _store.CancelAsync(id));
            Assert.False(await _store.CancelAsync(id));
            await Poll.UntilAsync(() => { lock (canceledIds) { return Task.FromResult(canceledIds.Contains(id)); } }, "the worker is told", Bound);
        }

        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Canceled()));
        var counts = await _store.CountAsync("q");
        Assert.Equal((0L, 1L), (counts.Started, counts.Canceled));
        Assert.Equal(TaskState.Canceled, (await _store.GetAsync(id))!.State);
        Assert.Equal(1, await _store.RequeueAsync([id]));
        Assert.Equal((TaskState.Pending, 0), ((await _store.GetAsync(id))!.State, (await _store.GetAsync(id))!.Attempt));
        Assert.Equal(1, await _store.DeleteAsync([id]));
        Assert.Null(await _store.GetAsync(id));
    }

    [Fact]
    public async Task The_leases_set_is_kept_a_skiplist_by_a_member_that_no_count_page_or_recovery_takes_for_a_lease()
    {
        // Input: three tasks fetched by a store whose leases run out at once (no heartbeat renews
        // them), then recovered, fetched again and settled. Expected: the leases set is a skiplist
        // (its extra member is longer than 64 bytes); Started counts and pages the three leases
        // alone; recovery brings back the three tasks and nothing else; once no lease is left the
        // key is gone, as an idle queue's looks expect.
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(50); o.WorkerTimeout = TimeSpan.FromMilliseconds(200); });
        string[] ids = [await store.EnqueueAsync("k", New()), await store.EnqueueAsync("k", New()), await store.EnqueueAsync("k", New())];
        Assert.Equal(3, (await store.FetchAsync(["k"], 3, CancellationToken.None)).Count);
        Assert.Equal("skiplist", await Raw.KeyEncodingAsync(K("k", "leases")));
        Assert.Equal(3, (await store.CountAsync("k")).Started);
        Assert.Equal(ids.Order(), (await store.ListAsync("k", TaskState.Started, 0, 10)).Select(t => t.Info.Id).Order());
        Assert.Single(await store.ListAsync("k", TaskState.Started, 2, 10));

        var recovered = 0;
        await Poll.UntilAsync(async () => (recovered += await store.RecoverAsync(["k"])) == 3, "the three leases expire and their tasks come back", Bound);
        Assert.Equal((3L, 0L), ((await store.CountAsync("k")).Pending, (await store.CountAsync("k")).Started));
        Assert.False(await Raw.KeyExistsAsync(K("k", "leases")));

        var leases = await store.FetchAsync(["k"], 3, CancellationToken.None);
        Assert.Equal(3, leases.Count);
        foreach (var lease in leases)
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        }

        Assert.Equal((0L, 3L), ((await store.CountAsync("k")).Started, (await store.CountAsync("k")).Succeeded));
        Assert.False(await Raw.KeyExistsAsync(K("k", "leases")));
    }

    [Fact]
    public async Task A_leases_set_an_older_version_wrote_is_read_as_it_is_and_kept_a_skiplist_from_the_next_fetch()
    {
        // Input: a running task whose leases set is as a version before the skiplist member left
        // it (its lease alone, a listpack), then a second task fetched. Expected: the count, the
        // page and the settle read the old set as before; the next fetch adds the member, and the
        // set is a skiplist from then on.
        var first = await _store.EnqueueAsync("o", New());
        var second = await _store.EnqueueAsync("o", New());
        var lease = Assert.Single(await _store.FetchAsync(["o"], 1, CancellationToken.None));
        var seq = Sequence(first).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var deadline = (await Raw.SortedSetScoreAsync(K("o", "leases"), seq))!.Value;
        await Raw.KeyDeleteAsync(K("o", "leases"));
        await Raw.SortedSetAddAsync(K("o", "leases"), seq, deadline);
        Assert.Equal("listpack", await Raw.KeyEncodingAsync(K("o", "leases")));
        Assert.Equal(1, (await _store.CountAsync("o")).Started);
        Assert.Equal(first, Assert.Single(await _store.ListAsync("o", TaskState.Started, 0, 10)).Info.Id);

        var next = Assert.Single(await _store.FetchAsync(["o"], 1, CancellationToken.None));
        Assert.Equal(second, next.Id);
        Assert.Equal("skiplist", await Raw.KeyEncodingAsync(K("o", "leases")));
        Assert.Equal(2, (await _store.CountAsync("o")).Started);
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        Assert.True(await _store.CompleteAsync(next, TaskCompletion.Succeeded(default)));
        Assert.Equal((0L, 2L), ((await _store.CountAsync("o")).Started, (await _store.CountAsync("o")).Succeeded));
        Assert.False(await Raw.KeyExistsAsync(K("o", "leases")));
    }

    [Fact]
    public async Task A_page_of_running_tasks_read_as_version_0_2_0_reads_it_passes_over_the_skiplist_member()
    {
        // Input: two running tasks (so the leases set holds the member that keeps it a skiplist),
        // then their leases set read as a store of version 0.2.0 pages Started tasks: every
        // member by rank is taken for a task number, and the field of that number is read from
        // its bucket (P:{q}:t:<number / 128>). Expected: the read finds the two running tasks
        // and nothing else, without an error; a member that is no number fails that read
        // ("attempt to perform arithmetic on a nil value"), and with it the whole page, in every
        // 0.2.0 dashboard, CLI and inspector while a newer worker runs beside them.
        const string OlderPage = """
            local out = {}
            for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
              local bucket = ARGV[1] .. 't:' .. string.format('%d', math.floor(tonumber(member) / 128))
              if redis.call('HGET', bucket, member) then out[#out + 1] = member end
            end
            return out
            """;
        string[] ids = [await _store.EnqueueAsync("v", New()), await _store.EnqueueAsync("v", New())];
        Assert.Equal(2, (await _store.FetchAsync(["v"], 2, CancellationToken.None)).Count);
        var page = (string[])(await Raw.ScriptEvaluateAsync(OlderPage, [K("v", "leases")], [(string?)K("v", string.Empty)]))!;
        Assert.Equal(ids.Select(id => Sequence(id).ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), page.Order());
    }

    [Fact]
    public async Task Heartbeats_publish_the_worker_with_what_it_holds_and_keep_its_leases()
    {
        // The lease (WorkerTimeout, 1 s) is renewed by heartbeats every 100 ms for 2.5 s, past two
        // leases: none expired. (A lease of 1 s lets a heartbeat come late by most of a second on a
        // loaded machine.)
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(100); o.WorkerTimeout = TimeSpan.FromSeconds(1); });
        await store.EnqueueAsync("q", New());
        var lease = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
        var status = new WorkerStatus();
        var beating = System.Diagnostics.Stopwatch.StartNew();
        while (beating.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            await store.HeartbeatAsync(new WorkerDescription(["q"], 4, status, ["Add"]), [lease]);
            await Task.Delay(100);
        }

        Assert.Equal(0, await store.RecoverAsync(["q"]));
        var worker = Assert.Single(await store.GetWorkersAsync());
        Assert.Equal((Worker.WorkerIdentity.Name, 4, lease.Id), (worker.Id, worker.Concurrency, Assert.Single(worker.Running)));
        Assert.Equal(["q"], await store.GetQueuesAsync());
        await store.LeaveAsync();
        Assert.Empty(await store.GetWorkersAsync());
    }

    [Fact]
    public async Task A_worker_lists_running_ids_whatever_characters_their_chosen_part_holds()
    {
        // Input: chosen ids with a newline, a comma, a quote and a backslash, held by one worker.
        // Before: the ids were joined with newlines and the first one read back as two.
        await using var store = Open();
        string[] chosen = ["line\none", "a,b \"c\" \\d", "plain"];
        var ids = await store.EnqueueManyAsync("nl", [.. chosen.Select(c => New(chosen: c))]);
        var leases = await store.FetchAsync(["nl"], 3, CancellationToken.None);
        Assert.Equal(3, leases.Count);
        await store.HeartbeatAsync(new WorkerDescription(["nl"], 3, new WorkerStatus()), leases);
        var worker = Assert.Single(await store.GetWorkersAsync());
        Assert.Equal(ids.Order(StringComparer.Ordinal), worker.Running.Order(StringComparer.Ordinal));
        await store.LeaveAsync();
    }

    // ---- Lost data ----

    [Fact]
    public async Task An_id_whose_queue_lost_its_keys_or_has_a_new_epoch_is_reported_lost()
    {
        var id = await _store.EnqueueAsync("q", New());
        await Raw.KeyDeleteAsync(K("q", "seq"));
        Assert.True((await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.GetAsync(id).AsTask())).Lost);
        Assert.True((await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.WaitAsync(id, Bound).AsTask())).Lost);

        var next = await _store.EnqueueAsync("q2", New());
        await Raw.HashSetAsync(K("q2", "seq"), "epoch", "zzzzzzzz"); // as after a restart without data and a new first enqueue
        Assert.True((await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.GetAsync(next).AsTask())).Lost);
        Assert.False((await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.WaitAsync("zzzzzzzz-99@q2", Bound).AsTask())).Lost);
    }

    [Fact]
    public async Task A_queue_made_again_after_its_keys_were_lost_gets_a_new_epoch_even_from_the_same_store()
    {
        // Input: a task enqueued, every key of its queue deleted (as a Redis restarted empty), a
        // second task enqueued by the same store. Expected: the second id differs from the first
        // (the epoch is made by the server, not reused from the client), and the first is lost.
        var first = await _store.EnqueueAsync("again", New(Small()));
        foreach (var suffix in new[] { "seq", "open", "t:0", "pending:0" })
        {
            await Raw.KeyDeleteAsync(K("again", suffix));
        }

        var second = await _store.EnqueueAsync("again", New(Small()));
        Assert.NotEqual(first, second);
        Assert.True((await Assert.ThrowsAsync<TaskNotFoundException>(() => _store.GetAsync(first).AsTask())).Lost);
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(second))!.State);
    }

    // ---- Waiters ----

    [Fact]
    public async Task Fifty_thousand_waiters_on_distinct_ids_are_all_woken()
    {
        const int Count = 50_000;
        var ids = new List<string>(Count);
        for (var i = 0; i < Count; i += 1000)
        {
            ids.AddRange(await _store.EnqueueManyAsync("w", [.. Enumerable.Range(0, 1000).Select(_ => New(Small()))]));
        }

        var waits = ids.Select(id => _store.WaitAsync(id, TimeSpan.FromMinutes(2)).AsTask()).ToArray();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var done = 0;
        while (done < Count)
        {
            var leases = await _store.FetchAsync(["w"], 1000, cts.Token);
            await Task.WhenAll(leases.Select(l => _store.CompleteAsync(l, TaskCompletion.Succeeded(default)).AsTask()));
            done += leases.Count;
        }

        var finals = await Task.WhenAll(waits).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(finals, f => Assert.Equal(TaskState.Succeeded, f.State));
    }

    // ---- Each script's last fallible write fails: every task is where it was ----

    private async Task<string> PendingWithBrokenKeyAsync(string queue, string suffix)
    {
        var id = await _store.EnqueueAsync(queue, New());
        await Raw.StringSetAsync(K(queue, suffix), "not a " + suffix);
        return id;
    }

    private async Task AssertWhereItWasAsync(string id, TaskState state, string queue, Func<StateCounts, long> index, string brokenSuffix)
    {
        await Raw.KeyDeleteAsync(K(queue, brokenSuffix));
        Assert.Equal(state, (await _store.GetAsync(id))!.State);
        Assert.Equal(1, index(await _store.CountAsync(queue)));
    }

    [Fact]
    public async Task Pending_entries_that_are_no_task_number_are_dropped_and_the_fetch_takes_the_tasks_behind_them()
    {
        // Input: a task enqueued to "g", then three entries pushed by hand behind it into its
        // pending list that name no task ("garbage", "", "12x"), then another task. Expected: the
        // list of pending tasks shows the two; the fetch neither fails nor spins: it takes both
        // and drops the three entries, which point at nothing (no record is lost).
        var first = await _store.EnqueueAsync("g", New());
        foreach (var junk in new[] { "garbage", "", "12x" })
        {
            await Raw.ListLeftPushAsync(K("g", "pending:0"), junk);
        }

        var second = await _store.EnqueueAsync("g", New());

        // Listed, the pending page shows the two tasks and not the entries (read before the fetch drops them).
        var listed = await _store.ListAsync("g", TaskState.Pending, 0, 10);
        Assert.Equal([first, second], listed.Select(t => t.Info.Id));
        var leases = await _store.FetchAsync(["g"], 10, CancellationToken.None);
        Assert.Equal([first, second], leases.Select(l => l.Id));
        Assert.Equal(0, await Raw.ListLengthAsync(K("g", "pending:0")));
        Assert.Equal(2, (await _store.CountAsync("g")).Started);
    }

    [Fact]
    public async Task Enqueue_with_a_pending_list_of_another_type_fails_and_stores_nothing()
    {
        // Input: pending:3 holds a string; EnqueueMany of a priority-0 and a priority-3 task. Error: WRONGTYPE (InvalidDataException).
        await Raw.StringSetAsync(K("e", "pending:3"), "x");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _store.EnqueueManyAsync("e", [New(), New(priority: 3)]).AsTask());
        Assert.Contains("WRONGTYPE", error.Message, StringComparison.Ordinal);
        Assert.False(await Raw.KeyExistsAsync(K("e", "seq")));
        Assert.False(await Raw.KeyExistsAsync(K("e", "t:0")));
        Assert.Equal(0, await Raw.ListLengthAsync(K("e", "pending:0")));
    }

    [Fact]
    public async Task Enqueue_of_two_buckets_of_tasks_whose_second_bucket_holds_another_type_fails_and_stores_nothing()
    {
        // Input: the bucket P:{b2}:t:1 (sequences 128 to 255) holds a string; EnqueueMany of 200
        // tasks into the new queue "b2" (sequences 1 to 200: the first bucket is fine, the second
        // not; the enqueue looks at each bucket's key once). Error: InvalidDataException naming
        // t:1; nothing stored (no seq key, no first bucket, no pending entry), the string kept.
        await Raw.StringSetAsync(K("b2", "t:1"), "x");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _store.EnqueueManyAsync("b2", [.. Enumerable.Range(0, 200).Select(_ => New(Small()))]).AsTask());
        Assert.Contains($"{_prefix}:{{b2}}:t:1 holds a string", error.Message, StringComparison.Ordinal);
        Assert.False(await Raw.KeyExistsAsync(K("b2", "seq")));
        Assert.False(await Raw.KeyExistsAsync(K("b2", "t:0")));
        Assert.Equal(0, await Raw.ListLengthAsync(K("b2", "pending:0")));
        Assert.Equal("x", (string?)await Raw.StringGetAsync(K("b2", "t:1")));

        await Raw.KeyDeleteAsync(K("b2", "t:1"));
        var ids = await _store.EnqueueManyAsync("b2", [.. Enumerable.Range(0, 200).Select(_ => New(Small()))]);
        Assert.Equal(200, ids.Distinct().Count());
        Assert.Equal(200, (await _store.CountAsync("b2")).Pending);
        Assert.Equal(73, await Raw.HashLengthAsync(K("b2", "t:1"))); // sequences 128 to 200
    }

    [Fact]
    public async Task Enqueue_with_a_unique_lock_of_another_type_fails_and_stores_nothing()
    {
        // Input: the unique lock P:{u}:u:job:k holds a list; EnqueueMany of a plain task and one
        // with that key. Error: InvalidDataException naming the lock key; nothing stored, the lock kept.
        await Raw.ListLeftPushAsync(K("u", "u:job:k"), "x");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _store.EnqueueManyAsync("u",
            [New(), New() with { UniqueKey = "job:k", UniqueFor = TimeSpan.FromMinutes(1) }]).AsTask());
        Assert.Contains($"{_prefix}:{{u}}:u:job:k holds a list", error.Message, StringComparison.Ordinal);
        Assert.False(await Raw.KeyExistsAsync(K("u", "seq")));
        Assert.Equal(0, await Raw.ListLengthAsync(K("u", "pending:0")));
        Assert.Equal(1, await Raw.ListLengthAsync(K("u", "u:job:k")));
    }

    [Fact]
    public async Task Enqueue_with_a_chosen_id_key_of_another_type_fails_and_stores_nothing()
    {
        // Input: the chosen-id key P:{c}:id:job-1 holds a list; EnqueueMany of a task chosen
        // job-2 and one chosen job-1 (the store reads a request's chosen ids with one MGET, which
        // reads a list as nothing). Error: InvalidDataException naming that key; nothing stored,
        // the list kept, job-2 not taken.
        await Raw.ListLeftPushAsync(K("c", "id:job-1"), "x");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _store.EnqueueManyAsync("c",
            [New() with { ChosenId = "job-2" }, New() with { ChosenId = "job-1" }]).AsTask());
        Assert.Contains($"{_prefix}:{{c}}:id:job-1 holds a list", error.Message, StringComparison.Ordinal);
        Assert.False(await Raw.KeyExistsAsync(K("c", "seq")));
        Assert.False(await Raw.KeyExistsAsync(K("c", "id:job-2")));
        Assert.Equal(0, await Raw.ListLengthAsync(K("c", "pending:0")));
        Assert.Equal(1, await Raw.ListLengthAsync(K("c", "id:job-1")));
    }

    [Fact]
    public async Task A_unique_lock_holds_the_sequence_of_its_task_and_lapses_after_unique_for()
    {
        // Input: an enqueue with key job:k and UniqueFor 1 minute. The lock is a string with the
        // task's sequence and a time to live of at most that minute.
        var id = await _store.EnqueueAsync("u", New() with { UniqueKey = "job:k", UniqueFor = TimeSpan.FromMinutes(1) });
        var seq = id[(id.IndexOf('-', StringComparison.Ordinal) + 1)..id.IndexOf('@', StringComparison.Ordinal)];
        Assert.Equal(seq, (string?)await Raw.StringGetAsync(K("u", "u:job:k")));
        var ttl = await Raw.KeyTimeToLiveAsync(K("u", "u:job:k"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Enqueues_batched_with_one_into_a_pending_list_of_another_type_are_stored_and_only_that_one_fails()
    {
        // Input: pending:3 of queue "i" holds a string; 20 concurrent enqueues at priority 0 (one
        // script call for the slot after the first) with one at priority 3 among them, and one with
        // a chosen id of the store's own form. Error: that enqueue alone, InvalidDataException naming
        // the key; ArgumentException for the chosen id. Before, the whole batch failed.
        var first = await _store.EnqueueAsync("i", New(Small()));
        var ownForm = first[..first.IndexOf('-', StringComparison.Ordinal)] + "-999";
        await Raw.StringSetAsync(K("i", "pending:3"), "x");
        var good = Enumerable.Range(0, 10).Select(_ => _store.EnqueueAsync("i", New(Small())).AsTask()).ToList();
        var bad = _store.EnqueueManyAsync("i", [New(Small()), New(Small(), priority: 3)]).AsTask();
        var chosen = _store.EnqueueAsync("i", New(Small(), chosen: ownForm)).AsTask();
        good.AddRange(Enumerable.Range(0, 10).Select(_ => _store.EnqueueAsync("i", New(Small())).AsTask()));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => bad);
        Assert.Contains($"{_prefix}:{{i}}:pending:3 holds a string", error.Message, StringComparison.Ordinal);
        Assert.Contains("has the form of an id the store makes", (await Assert.ThrowsAsync<ArgumentException>(() => chosen)).Message, StringComparison.Ordinal);
        var ids = await Task.WhenAll(good);
        Assert.Equal(20, ids.Distinct().Count());
        await Raw.KeyDeleteAsync(K("i", "pending:3"));
        Assert.Equal(21, (await _store.CountAsync("i")).Pending);
        Assert.Null(await _store.GetAsync(ownForm + "@i"));
    }

    [Fact]
    public async Task Completions_batched_with_one_into_a_final_index_of_another_type_settle_and_only_that_one_fails()
    {
        // Input: succeeded of queue "s" holds a string; 10 running tasks settled concurrently, one as
        // Succeeded, nine as Failed. Error: the Succeeded one alone, InvalidDataException naming the
        // key; it stays Started with its lease. Before, every settle of the batch failed.
        await _store.EnqueueManyAsync("s", [.. Enumerable.Range(0, 10).Select(_ => New(Small()))]);
        var leases = await _store.FetchAsync(["s"], 10, CancellationToken.None);
        Assert.Equal(10, leases.Count);
        await Raw.StringSetAsync(K("s", "succeeded"), "x");
        var failure = TaskCompletion.Failed(new TaskError("E", "m", null));
        var settles = leases.Select((l, i) => _store.CompleteAsync(l, i == 5 ? TaskCompletion.Succeeded(default) : failure).AsTask()).ToList();

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => settles[5]);
        Assert.Contains($"{_prefix}:{{s}}:succeeded holds a string", error.Message, StringComparison.Ordinal);
        settles.RemoveAt(5);
        Assert.All(await Task.WhenAll(settles), Assert.True);
        await Raw.KeyDeleteAsync(K("s", "succeeded"));
        var counts = await _store.CountAsync("s");
        Assert.Equal((9L, 1L), (counts.Failed, counts.Started));
        Assert.Equal(TaskState.Started, (await _store.GetAsync(leases[5].Id))!.State);
    }

    [Theory]
    [InlineData("link", "wl")]
    [InlineData("outbox", "elsewhere")]
    public async Task Completions_batched_with_a_workflow_member_whose_link_or_outbox_holds_another_type_settle_and_only_that_one_fails(string broken, string joinQueue)
    {
        // Input: queue "wl" holds a workflow member (chosen id m-1, linked to a join in joinQueue)
        // and nine plain tasks, all running; then its link hash (the member's join on "wl") or its
        // outbox (the join on another queue, reached through the outbox) holds a string. The ten
        // are settled concurrently: the member Succeeded, one plain task Retry, eight Failed.
        // Error: the member's settle alone, InvalidDataException naming that key; it stays Started
        // with its lease and settles once the key is mended. Before, the whole call failed with a
        // WRONGTYPE naming no key, the retried task left Started in retrying beside its lease.
        var member = New(Small(), chosen: "m-1") with { Link = new WorkflowLink(joinQueue, "J", 0) };
        await _store.EnqueueManyAsync("wl", [member, .. Enumerable.Range(0, 9).Select(_ => New(Small()))]);
        var leases = await _store.FetchAsync(["wl"], 10, CancellationToken.None);
        Assert.Equal(10, leases.Count);
        await Raw.KeyDeleteAsync(K("wl", broken));
        await Raw.StringSetAsync(K("wl", broken), "x");
        var error = new TaskError("E", "m", null);
        var at = leases.ToList().FindIndex(l => l.Id == "m-1@wl");
        var retried = at == 0 ? 1 : 0;
        var settles = leases.Select((l, i) => _store.CompleteAsync(l, i == at ? TaskCompletion.Succeeded(default)
            : i == retried ? TaskCompletion.Retry(error, DateTimeOffset.UtcNow.AddHours(1)) : TaskCompletion.Failed(error)).AsTask()).ToList();

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => settles[at]);
        Assert.Contains($"{_prefix}:{{wl}}:{broken} holds a string", refused.Message, StringComparison.Ordinal);
        settles.RemoveAt(at);
        Assert.All(await Task.WhenAll(settles), Assert.True);
        var counts = await _store.CountAsync("wl");
        Assert.Equal((8L, 1L, 1L), (counts.Failed, counts.Retrying, counts.Started));
        Assert.Equal(TaskState.Started, (await _store.GetAsync("m-1@wl"))!.State);
        await Raw.KeyDeleteAsync(K("wl", broken));
        Assert.True(await _store.CompleteAsync(leases[at], TaskCompletion.Succeeded(default)));
        Assert.Equal(TaskState.Succeeded, (await _store.GetAsync("m-1@wl"))!.State);
    }

    [Theory]
    [InlineData("link", "pl")]
    [InlineData("outbox", "elsewhere")]
    public async Task A_purge_of_a_queue_with_a_workflow_member_whose_link_or_outbox_holds_another_type_is_refused_and_deletes_nothing(string broken, string joinQueue)
    {
        // Input: queue "pl" holds two plain pending tasks and a pending workflow member (chosen id
        // p-1, linked to a join in joinQueue); then its link hash (the join on "pl") or its outbox
        // (the join on another queue) holds a string. Error: the purge is refused naming that key
        // (InvalidDataException), before anything is written: the three are still pending. Once the
        // key is mended, the purge deletes all three.
        var member = New(Small(), chosen: "p-1") with { Link = new WorkflowLink(joinQueue, "J", 0) };
        await _store.EnqueueManyAsync("pl", [New(Small(1)), member, New(Small(2))]);
        await Raw.StringSetAsync(K("pl", broken), "x");

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => _store.PurgeAsync("pl", 10).AsTask());
        Assert.Contains($"{_prefix}:{{pl}}:{broken} holds a string", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await _store.CountAsync("pl")).Pending);
        Assert.Equal(TaskState.Pending, (await _store.GetAsync("p-1@pl"))!.State);

        await Raw.KeyDeleteAsync(K("pl", broken));
        Assert.Equal(3, await _store.PurgeAsync("pl", 10));
        Assert.Equal(0, (await _store.CountAsync("pl")).Pending);
        Assert.Null(await _store.GetAsync("p-1@pl"));
    }

    [Fact]
    public async Task Pending_tasks_whose_records_cannot_be_read_end_failed_with_the_reason_and_the_fetch_takes_the_next()
    {
        // Input: three pending tasks; the first's record cut to one byte, the second's record moved
        // to its side key, which holds a list. Expected: one fetch returns the third; the first ends
        // Failed ("UnreadableRecord", its byte kept as its envelope), the second Failed ("side key:
        // wrong type"), and the list is left as it was.
        var ids = await _store.EnqueueManyAsync("ur", [New(Small(1)), New(Small(2)), New(Small(3))]);
        await Raw.HashSetAsync(K("ur", "t:0"), "1", new byte[] { 0x00 });
        await Raw.HashSetAsync(K("ur", "t:0"), "2", "x");
        await Raw.ListLeftPushAsync(K("ur", "x:2"), "a list where a record belongs");

        var lease = Assert.Single(await _store.FetchAsync(["ur"], 1, CancellationToken.None));
        Assert.Equal(ids[2], lease.Id);
        var cut = await _store.GetStoredAsync(ids[0]);
        Assert.Equal((TaskState.Failed, "TypedTasks.UnreadableRecord"), (cut!.Info.State, cut.Info.Error!.Type));
        Assert.Contains("(1 bytes) is not a task store record", cut.Info.Error.Message, StringComparison.Ordinal);
        Assert.Equal([0x00], cut.Envelope.ToArray());
        var wrong = await _store.GetAsync(ids[1]);
        Assert.Equal((TaskState.Failed, "side key: wrong type"), (wrong!.State, wrong.Error!.Message));
        Assert.Equal(1, await Raw.ListLengthAsync(K("ur", "x:2")));
        var counts = await _store.CountAsync("ur");
        Assert.Equal((0L, 1L, 2L), (counts.Pending, counts.Started, counts.Failed));
    }

    [Fact]
    public async Task Fetch_with_a_leases_key_of_another_type_fails_and_the_task_stays_pending()
    {
        // Input: leases holds a string. Error: WRONGTYPE from the fetch script.
        var id = await PendingWithBrokenKeyAsync("f", "leases");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.FetchAsync(["f"], 5, CancellationToken.None).AsTask());
        await AssertWhereItWasAsync(id, TaskState.Pending, "f", c => c.Pending, "leases");
        Assert.Equal(0, (await _store.GetAsync(id))!.Attempt);
    }

    [Fact]
    public async Task Complete_with_a_final_index_of_another_type_fails_and_the_task_stays_started_with_its_lease()
    {
        // Input: succeeded holds a string; CompleteAsync(Succeeded). Error: WRONGTYPE from the complete script.
        var id = await _store.EnqueueAsync("c", New());
        var lease = await FetchOneAsync("c");
        await Raw.StringSetAsync(K("c", "succeeded"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.CompleteAsync(lease, TaskCompletion.Succeeded(default)).AsTask());
        await AssertWhereItWasAsync(id, TaskState.Started, "c", c => c.Started, "succeeded");
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
    }

    [Fact]
    public async Task Renew_with_a_leases_key_of_another_type_fails_and_the_lease_keeps_its_deadline()
    {
        // Input: the leases set moved aside and a string in its place; HeartbeatAsync. Error: WRONGTYPE from the renew script.
        var id = await _store.EnqueueAsync("r", New());
        var lease = await FetchOneAsync("r");
        var before = await Raw.SortedSetScoreAsync(K("r", "leases"), id.Split('-', '@')[1]);
        await Raw.KeyRenameAsync(K("r", "leases"), K("r", "leases-aside"));
        await Raw.StringSetAsync(K("r", "leases"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.HeartbeatAsync(new WorkerDescription(["r"], 1, new WorkerStatus()), [lease]).AsTask());
        await Raw.KeyRenameAsync(K("r", "leases-aside"), K("r", "leases"));
        Assert.Equal(before, await Raw.SortedSetScoreAsync(K("r", "leases"), id.Split('-', '@')[1]));
        Assert.Equal(TaskState.Started, (await _store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task A_heartbeat_renews_the_leases_of_other_queues_when_one_queue_has_a_leases_key_of_another_type()
    {
        // Input: a worker holds a task of "r1" and of "r2" (one slot on a single server, so one
        // renew call there); r1's leases key holds a string. Error: InvalidDataException naming
        // r1's key; r2's lease gets its new deadline all the same.
        var held = new List<TaskLease>();
        foreach (var queue in new[] { "r1", "r2" })
        {
            await _store.EnqueueAsync(queue, New(Small()));
            held.Add(await FetchOneAsync(queue));
        }

        var r2Seq = held[1].Id.Split('-', '@')[1];
        var before = await Raw.SortedSetScoreAsync(K("r2", "leases"), r2Seq);
        await Raw.KeyRenameAsync(K("r1", "leases"), K("r1", "leases-aside"));
        await Raw.StringSetAsync(K("r1", "leases"), "x");
        await Task.Delay(20);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _store.HeartbeatAsync(new WorkerDescription(["r1", "r2"], 2, new WorkerStatus()), held).AsTask());
        Assert.Contains($"{_prefix}:{{r1}}:leases holds a string", error.Message, StringComparison.Ordinal);
        Assert.True(await Raw.SortedSetScoreAsync(K("r2", "leases"), r2Seq) > before);
        await Raw.KeyDeleteAsync(K("r1", "leases"));
        await Raw.KeyRenameAsync(K("r1", "leases-aside"), K("r1", "leases"));
    }

    [Fact]
    public async Task Recover_with_a_pending_list_of_another_type_fails_and_the_task_stays_started()
    {
        // Input: an expired lease; pending:0 holds a string. Error: WRONGTYPE from the recover script.
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(20); o.WorkerTimeout = TimeSpan.FromMilliseconds(50); });
        var id = await store.EnqueueAsync("v", New());
        Assert.Single(await store.FetchAsync(["v"], 1, CancellationToken.None));
        await Task.Delay(100);
        await Raw.StringSetAsync(K("v", "pending:0"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => store.RecoverAsync(["v"]).AsTask());
        await AssertWhereItWasAsync(id, TaskState.Started, "v", c => c.Started, "pending:0");
        Assert.Equal(1, await store.RecoverAsync(["v"]));
    }

    [Fact]
    public async Task Expired_leases_whose_records_cannot_be_read_end_failed_and_the_others_come_back()
    {
        // Input: three running tasks whose leases expired; then the second's record moved to its
        // side key, which holds a list. Expected: recovery does not fail (it failed every round,
        // naming no key, with the first task already sent back while still leased): the first and
        // third come back Pending, the second ends Failed ("side key: wrong type"), no lease is
        // left, the list is left as it was, and a second recovery finds nothing.
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(20); o.WorkerTimeout = TimeSpan.FromMilliseconds(50); });
        var ids = await store.EnqueueManyAsync("rv", [New(Small(1)), New(Small(2)), New(Small(3))]);
        Assert.Equal(3, (await store.FetchAsync(["rv"], 3, CancellationToken.None)).Count);
        await Raw.HashSetAsync(K("rv", "t:0"), "2", "x");
        await Raw.ListLeftPushAsync(K("rv", "x:2"), "a list where a record belongs");
        await Task.Delay(100);

        Assert.Equal(2, await store.RecoverAsync(["rv"]));
        Assert.Equal((TaskState.Pending, TaskState.Pending), ((await store.GetAsync(ids[0]))!.State, (await store.GetAsync(ids[2]))!.State));
        var wrong = await store.GetAsync(ids[1]);
        Assert.Equal((TaskState.Failed, "side key: wrong type"), (wrong!.State, wrong.Error!.Message));
        var counts = await store.CountAsync("rv");
        Assert.Equal((2L, 0L, 1L), (counts.Pending, counts.Started, counts.Failed));
        Assert.Equal(1, await Raw.ListLengthAsync(K("rv", "x:2")));
        Assert.Equal(0, await store.RecoverAsync(["rv"]));
    }

    [Fact]
    public async Task Tasks_whose_bucket_holds_a_set_end_failed_once_and_neither_fetch_nor_recovery_fails()
    {
        // Input: two pending tasks whose bucket key was replaced by a set (which Redis encodes as a
        // hashtable, as it does a wide bucket); and a running task whose lease expired, its bucket
        // replaced the same way. Expected: the fetch starts nothing and fails no call: both end in
        // the failed index once (nothing can be written in such a bucket), and a second fetch finds
        // nothing; recovery moves the running one to the failed index once, and a second recovery
        // finds nothing. The sets are left as they were.
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(20); o.WorkerTimeout = TimeSpan.FromMilliseconds(50); });
        await store.EnqueueManyAsync("sb", [New(Small(1)), New(Small(2))]);
        await Raw.KeyDeleteAsync(K("sb", "t:0"));
        await Raw.SetAddAsync(K("sb", "t:0"), ["a set member", "another one"]);
        Assert.Empty(await store.FetchAsync(["sb"], 5, CancellationToken.None));
        Assert.Empty(await store.FetchAsync(["sb"], 5, CancellationToken.None));
        Assert.Equal(2, await Raw.ListLengthAsync(K("sb", "failed")));
        Assert.Equal(0, (await store.CountAsync("sb")).Pending);

        await store.EnqueueAsync("sr", New(Small(1)));
        Assert.Single(await store.FetchAsync(["sr"], 1, CancellationToken.None));
        await Raw.KeyDeleteAsync(K("sr", "t:0"));
        await Raw.SetAddAsync(K("sr", "t:0"), ["a set member", "another one"]);
        await Task.Delay(100);
        Assert.Equal(0, await store.RecoverAsync(["sr"]));
        Assert.Equal(0, await store.RecoverAsync(["sr"]));
        Assert.Equal(1, await Raw.ListLengthAsync(K("sr", "failed")));
        Assert.Equal(0, (await store.CountAsync("sr")).Started);
        Assert.Equal(2, await Raw.SetLengthAsync(K("sb", "t:0")));
        Assert.Equal(2, await Raw.SetLengthAsync(K("sr", "t:0")));
    }

    [Fact]
    public async Task A_sending_set_of_another_type_refuses_joins_with_members_in_its_queue_and_recovery_goes_on()
    {
        // Input: the queue's sending set (sending) holds a string; a join there with one member;
        // then a running task of that queue whose lease expired. Expected: the join is refused
        // naming the key and nothing is written (no join key); a join of an empty group is written;
        // recovery puts the task back once and fails no call; the string is left as it was.
        await using var store = Open(o => { o.HeartbeatInterval = TimeSpan.FromMilliseconds(20); o.WorkerTimeout = TimeSpan.FromMilliseconds(50); });
        await Raw.StringSetAsync(K("ss", "sending"), "not a set");
        var withMember = new WorkflowJoin("ss", "wfs.1", "wfs", 1, JoinMode.One, ReadOnlyMemory<byte>.Empty, 0, 0, "x", null, ["wfs.0@ss"]);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => store.CreateJoinsAsync([withMember]).AsTask());
        Assert.Contains(":{ss}:sending holds a string", refused.Message, StringComparison.Ordinal);
        Assert.False(await Raw.KeyExistsAsync(K("ss", "join:wfs.1")));
        await store.CreateJoinsAsync([new WorkflowJoin("ss", "wft.2", "wft", 0, JoinMode.All, ReadOnlyMemory<byte>.Empty, 0, 0, "x", null, [])]);
        Assert.True(await Raw.KeyExistsAsync(K("ss", "join:wft.2")));

        await store.EnqueueAsync("ss", New(Small(1)));
        Assert.Single(await store.FetchAsync(["ss"], 1, CancellationToken.None));
        await Task.Delay(100);
        Assert.Equal(1, await store.RecoverAsync(["ss"]));
        Assert.Equal(0, await store.RecoverAsync(["ss"]));
        Assert.Equal(1, (await store.CountAsync("ss")).Pending);
        Assert.Equal("not a set", (string?)await Raw.StringGetAsync(K("ss", "sending")));
    }

    // A group-result join (no successor envelope) of workflow wf in queue q waiting for members.
    private static WorkflowJoin GroupJoin(string q, string key, string wf, JoinMode mode, params string[] members)
        => new(q, key, wf, members.Length, mode, ReadOnlyMemory<byte>.Empty, 0, 0, "x", null, members);

    [Fact]
    public async Task A_sealed_join_leaves_the_sending_set_and_an_unsealed_one_whose_members_are_all_stored_is_left_to_wait_for_them()
    {
        // Input: two joins on "ss", each waiting for a start on "ss" and one on "sm" (another slot
        // on a Cluster), both starts stored; the first sealed by its sender, the second not (its
        // sender stopped after its last part). Recovery looks once their time (1 ms) is past.
        // Expected: the sealed join is gone from the sending set at once; the unsealed one leaves it
        // at recovery's look with nothing delivered: both joins open, 0 of 2 arrived.
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        WorkflowJoin[] joins = [GroupJoin("ss", "wfs.1", "wfs", JoinMode.All, "wfs.0.0@ss", "wfs.0.1@sm"), GroupJoin("ss", "wfu.1", "wfu", JoinMode.All, "wfu.0.0@ss", "wfu.0.1@sm")];
        foreach (var join in joins)
        {
            await sender.CreateJoinsAsync([join]);
            var wf = join.WorkflowId;
            await sender.EnqueueManyAsync("ss", [New(Small(), chosen: wf + ".0.0") with { Link = new WorkflowLink("ss", join.Key, 0) }]);
            await sender.EnqueueManyAsync("sm", [New(Small(), chosen: wf + ".0.1") with { Link = new WorkflowLink("ss", join.Key, 1) }]);
        }

        await sender.SealJoinsAsync([joins[0]]);
        Assert.Equal(["wfu.1"], (await Raw.SortedSetRangeByRankAsync(K("ss", "sending"))).Select(v => (string)v!));
        await Task.Delay(20);
        await using var recovering = Open();
        Assert.Equal(0, await recovering.RecoverAsync(["ss"]));
        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("ss", "sending")));
        foreach (var join in joins)
        {
            var state = (await recovering.GetJoinAsync("ss", join.Key))!;
            Assert.Equal(("open", 0), (state.State, state.Arrived));
        }
    }

    [Fact]
    public async Task Members_of_an_unsealed_join_never_stored_are_delivered_failed_and_a_later_step_whose_join_exists_counts_as_stored()
    {
        // Input: a Settled join "we.3" on "sw" waiting for three members: "we.1@sw", a later step
        // whose join exists (not made yet); "we.2@sx", a later step whose join was never written;
        // "we.0.0@sx", a start never stored. Not sealed; recovery looks once its time is past.
        // Expected: the second and third are delivered Failed (TypedTasks.TaskNeverStored, naming
        // each); the first is left to come: the join is open with 2 of 3. Both joins leave the
        // sending set ("we.1", whose member is stored, with nothing delivered).
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        await sender.CreateJoinsAsync([GroupJoin("sw", "we.1", "we", JoinMode.All, "we.0.9@sw")]);
        await sender.CreateJoinsAsync([GroupJoin("sw", "we.3", "we", JoinMode.Settled, "we.1@sw", "we.2@sx", "we.0.0@sx")]);
        await sender.EnqueueManyAsync("sw", [New(Small(), chosen: "we.0.9") with { Link = new WorkflowLink("sw", "we.1", 0) }]);
        await Task.Delay(20);

        await using var recovering = Open();
        await recovering.RecoverAsync(["sw"]);
        var state = (await recovering.GetJoinAsync("sw", "we.3"))!;
        Assert.Equal(("open", 2), (state.State, state.Arrived));
        Assert.Equal([1, 2], state.Outcomes.Keys.Order());
        Assert.All(state.Outcomes.Values, o => Assert.Equal(TaskState.Failed, o));
        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("sw", "sending")));
        Assert.Equal(0, (await recovering.GetJoinAsync("sw", "we.1"))!.Arrived);
        var outcome = (byte[])(await Raw.HashGetAsync(K("sw", "join:we.3"), "o:2"))!;
        Assert.Contains("TypedTasks.TaskNeverStored", System.Text.Encoding.UTF8.GetString(outcome), StringComparison.Ordinal);
        Assert.Contains("Task we.0.0@sx of the workflow was not stored", System.Text.Encoding.UTF8.GetString(outcome), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsealed_join_whose_look_is_refused_leaves_the_others_looked_at_and_is_looked_at_again_a_minute_later()
    {
        // Input: three unsealed joins past their time whose one start was never stored: "wfa.1" and
        // "wfb.1" on "sb", "wfc.1" on "sc"; wfa's successor id key (id:wfa.1) holds a hash, so its
        // delivery is refused. Error: recovery throws naming that key; wfb and wfc are failed all
        // the same and leave their sets; wfa stays, due a minute later; once the key is mended and
        // its time has come, the next look fails it too.
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        foreach (var (q, wf) in new[] { ("sb", "wfa"), ("sb", "wfb"), ("sc", "wfc") })
        {
            await sender.CreateJoinsAsync([GroupJoin(q, wf + ".1", wf, JoinMode.All, wf + ".0@" + q)]);
        }

        await Raw.HashSetAsync(K("sb", "id:wfa.1"), "x", "y");
        await Task.Delay(20);
        await using var recovering = Open();
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => recovering.RecoverAsync(["sb", "sc"]).AsTask());
        Assert.Contains("id:wfa.1 holds a hash", refused.Message, StringComparison.Ordinal);
        Assert.Equal("failed", (await recovering.GetJoinAsync("sb", "wfb.1"))!.State);
        Assert.Equal("failed", (await recovering.GetJoinAsync("sc", "wfc.1"))!.State);
        Assert.Equal("open", (await recovering.GetJoinAsync("sb", "wfa.1"))!.State);
        var later = (await Raw.SortedSetScoreAsync(K("sb", "sending"), "wfa.1"))!.Value;
        Assert.InRange(later - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 50_000, 61_000);
        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("sc", "sending")));

        await Raw.KeyDeleteAsync(K("sb", "id:wfa.1"));
        await Raw.SortedSetAddAsync(K("sb", "sending"), "wfa.1", 0);
        await using var again = Open();
        await again.RecoverAsync(["sb"]);
        Assert.Equal("failed", (await again.GetJoinAsync("sb", "wfa.1"))!.State);
        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("sb", "sending")));
    }

    /// <summary>
    /// A workflow member (chosen id <paramref name="chosen"/>, linked by <paramref name="link"/>)
    /// enqueued on <paramref name="queue"/> and succeeded with 42 by a worker that stops right after
    /// the settle: its delivery stays in the queue's outbox. Returns its id.
    /// </summary>
    private async Task<string> SucceedWithDeliveryLeftAsync(string queue, string chosen, WorkflowLink link)
    {
        await using var worker = Open();
        worker.SkipFollowUps = true;
        var id = await worker.EnqueueAsync(queue, New(Small(), chosen: chosen) with { Link = link });
        var lease = Assert.Single(await worker.FetchAsync([queue], 1, CancellationToken.None));
        Assert.True(await worker.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 0x2a })));
        return id;
    }

    [Fact]
    public async Task A_member_of_an_unsealed_join_that_ended_and_is_gone_with_its_delivery_in_its_outbox_counts_with_its_outcome()
    {
        // Input: an unsealed join on "fd" waiting for one member on "fm" (another slot on a
        // Cluster); the member succeeded with 42, its delivery left in the outbox of "fm" (its
        // worker stopped right after the settle), then the task was deleted. Recovery looks at the
        // join once its time (1 ms) is past. Expected: the delivery is made first, so the group
        // ends Succeeded with [42], not failed as never stored.
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        await sender.CreateJoinsAsync([GroupJoin("fd", "wfx.1", "wfx", JoinMode.All, "wfx.0@fm")]);
        var id = await SucceedWithDeliveryLeftAsync("fm", "wfx.0", new WorkflowLink("fd", "wfx.1", 0));
        Assert.Equal(1, await Raw.HashLengthAsync(K("fm", "outbox")));
        Assert.Equal(1, await sender.DeleteAsync([id]));
        await Task.Delay(20);

        await using var recovering = Open();
        await recovering.RecoverAsync(["fd"]);
        var group = (await recovering.GetStoredAsync("wfx.1@fd"))!;
        Assert.Equal(TaskState.Succeeded, group.Info.State);
        Assert.Equal([0x91, 0x2a], group.Info.Result.ToArray());
        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("fd", "sending")));
    }

    [Fact]
    public async Task A_refused_delivery_of_another_workflow_in_a_members_outbox_does_not_stop_the_look_at_an_unsealed_join()
    {
        // Input: workflow "wb" (sealed): its member on "om" succeeded and its delivery waits in the
        // outbox of "om", refused because wb's successor id key on "ob" holds a hash. Workflow "ww":
        // an unsealed join on "ow" waiting for a start on "om" that was never stored, past its time.
        // Expected: the look fails ww's member as never stored (the group ends Failed) and leaves
        // wb's entry in the outbox of "om", uncounted.
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        var wb = GroupJoin("ob", "wb.1", "wb", JoinMode.All, "wb.0@om");
        await sender.CreateJoinsAsync([wb]);
        await sender.SealJoinsAsync([wb]);
        await SucceedWithDeliveryLeftAsync("om", "wb.0", new WorkflowLink("ob", "wb.1", 0));
        await Raw.HashSetAsync(K("ob", "id:wb.1"), "x", "y");
        await sender.CreateJoinsAsync([GroupJoin("ow", "ww.1", "ww", JoinMode.All, "ww.0@om")]);
        await Task.Delay(20);

        await using var recovering = Open();
        await recovering.RecoverAsync(["ow"]);
        var group = (await recovering.GetStoredAsync("ww.1@ow"))!;
        Assert.Equal((TaskState.Failed, "TypedTasks.TaskNeverStored"), (group.Info.State, group.Info.Error!.Type));
        Assert.Equal(1, await Raw.HashLengthAsync(K("om", "outbox")));
        Assert.Equal(("open", 0), ((await recovering.GetJoinAsync("ob", "wb.1"))!.State, (await recovering.GetJoinAsync("ob", "wb.1"))!.Arrived));
    }

    [Fact]
    public async Task An_unsealed_join_whose_members_do_not_read_is_looked_at_again_later_and_the_other_queues_are_looked_at()
    {
        // Input: two unsealed joins past their time: "wg.1" on "sg", whose members field was
        // replaced by bytes that are not MessagePack; "wh.1" on "sh", waiting for a start never
        // stored. Error: recovery throws the reading error; wh's member is failed all the same, and
        // wg is due again about a minute later.
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        await sender.CreateJoinsAsync([GroupJoin("sg", "wg.1", "wg", JoinMode.All, "wg.0@sg")]);
        await sender.CreateJoinsAsync([GroupJoin("sh", "wh.1", "wh", JoinMode.All, "wh.0@sh")]);
        await Raw.HashSetAsync(K("sg", "join:wg.1"), "members", new byte[] { 0xc1 });
        await Task.Delay(20);

        await using var recovering = Open();
        await Assert.ThrowsAnyAsync<Exception>(() => recovering.RecoverAsync(["sg", "sh"]).AsTask());
        Assert.Equal("failed", (await recovering.GetJoinAsync("sh", "wh.1"))!.State);
        var later = (await Raw.SortedSetScoreAsync(K("sg", "sending"), "wg.1"))!.Value;
        Assert.InRange(later - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 50_000, 61_000);
    }

    [Fact]
    public async Task Every_unsealed_join_of_a_queue_is_looked_at_over_the_next_rounds_not_only_the_first_ten()
    {
        // Input: 25 unsealed joins on "sn" past their time, each waiting for a start that is stored.
        // Expected: one store's recovery, called three times, leaves none in the sending set (a look
        // that names ten makes the next round look at the queue again), and delivers nothing.
        await using var sender = Open();
        sender.SendGrace = TimeSpan.FromMilliseconds(1);
        for (var i = 0; i < 25; i++)
        {
            var wf = "wn" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await sender.CreateJoinsAsync([GroupJoin("sn", wf + ".1", wf, JoinMode.All, wf + ".0@sn")]);
            await sender.EnqueueManyAsync("sn", [New(Small(), chosen: wf + ".0") with { Link = new WorkflowLink("sn", wf + ".1", 0) }]);
        }

        await Task.Delay(20);
        await using var recovering = Open();
        for (var round = 0; round < 3; round++)
        {
            await recovering.RecoverAsync(["sn"]);
        }

        Assert.Equal(0, await Raw.SortedSetLengthAsync(K("sn", "sending")));
        Assert.Equal(0, (await recovering.GetJoinAsync("sn", "wn7.1"))!.Arrived);
    }

    [Fact]
    public async Task Promote_with_a_pending_list_of_another_type_fails_and_the_task_stays_scheduled()
    {
        // Input: a task due now; pending:0 holds a string. Error: WRONGTYPE from the promote script.
        var id = await _store.EnqueueAsync("p", New(due: DateTimeOffset.UtcNow.AddMilliseconds(50)));
        await Task.Delay(100);
        await Raw.StringSetAsync(K("p", "pending:0"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.PromoteDueAsync(["p"]).AsTask());
        await AssertWhereItWasAsync(id, TaskState.Scheduled, "p", c => c.Scheduled, "pending:0");
    }

    [Fact]
    public async Task Cancel_with_a_canceled_index_of_another_type_fails_and_the_task_stays_pending()
    {
        // Input: canceled holds a string; CancelAsync of a pending task. Error: WRONGTYPE from the cancel script.
        var id = await PendingWithBrokenKeyAsync("k", "canceled");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.CancelAsync(id).AsTask());
        await AssertWhereItWasAsync(id, TaskState.Pending, "k", c => c.Pending, "canceled");
    }

    [Fact]
    public async Task Requeue_with_a_pending_list_of_another_type_fails_and_the_task_stays_failed()
    {
        // Input: a failed task; pending:0 holds a string; RequeueAsync. Error: WRONGTYPE from the requeue script.
        var id = await _store.EnqueueAsync("u", New());
        var lease = await FetchOneAsync("u");
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));
        await Raw.StringSetAsync(K("u", "pending:0"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.RequeueAsync([id]).AsTask());
        await AssertWhereItWasAsync(id, TaskState.Failed, "u", c => c.Failed, "pending:0");
    }

    [Fact]
    public async Task Delete_with_an_open_counter_of_another_type_fails_and_the_task_stays_pending()
    {
        // Input: the open counter hash replaced by a string; DeleteAsync of a pending task. Error: WRONGTYPE from the delete script.
        var id = await _store.EnqueueAsync("d", New());
        await Raw.KeyRenameAsync(K("d", "open"), K("d", "open-aside"));
        await Raw.StringSetAsync(K("d", "open"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.DeleteAsync([id]).AsTask());
        await Raw.KeyDeleteAsync(K("d", "open"));
        await Raw.KeyRenameAsync(K("d", "open-aside"), K("d", "open"));
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(id))!.State);
        Assert.Equal(1, (await _store.CountAsync("d")).Pending);
    }

    [Fact]
    public async Task Purge_with_an_open_counter_of_another_type_fails_and_the_tasks_stay_pending()
    {
        // Input: the open counter hash replaced by a string; PurgeAsync. Error: WRONGTYPE from the purge script.
        var id = await _store.EnqueueAsync("g", New());
        await Raw.KeyRenameAsync(K("g", "open"), K("g", "open-aside"));
        await Raw.StringSetAsync(K("g", "open"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.PurgeAsync("g", 10).AsTask());
        await Raw.KeyDeleteAsync(K("g", "open"));
        await Raw.KeyRenameAsync(K("g", "open-aside"), K("g", "open"));
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(id))!.State);
        Assert.Equal(1, await _store.PurgeAsync("g", 10));
        Assert.Null(await _store.GetAsync(id));
    }

    [Fact]
    public async Task Migrate_with_a_pending_list_of_another_type_fails_and_the_old_messages_stay()
    {
        // Input: a 0.1 ready list with one message; pending:2 holds a string. Error: WRONGTYPE from the migrate script.
        await Raw.ListLeftPushAsync(K("m", "ready:2"), Envelope("Add", id: "legacy-1", queue: "m", priority: 2));
        await Raw.StringSetAsync(K("m", "pending:2"), "x");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.MigrateLegacyAsync(["m"]));
        Assert.Equal(1, await Raw.ListLengthAsync(K("m", "ready:2")));
        Assert.False(await Raw.KeyExistsAsync(K("m", "id:legacy-1")));
    }

    [Fact]
    public async Task Count_and_list_with_a_final_index_of_another_type_fail_and_change_nothing()
    {
        // Input: failed holds a string (count and list drop expired entries from the final indexes,
        // so they write there). Error: WRONGTYPE from the count and list scripts.
        var id = await PendingWithBrokenKeyAsync("n", "failed");
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.CountAsync("n").AsTask());
        await Assert.ThrowsAsync<InvalidDataException>(() => _store.ListAsync("n", TaskState.Failed, 0, 10).AsTask());
        Assert.Equal("not a failed", (string?)await Raw.StringGetAsync(K("n", "failed")));
        await AssertWhereItWasAsync(id, TaskState.Pending, "n", c => c.Pending, "failed");
    }

    [Fact]
    public async Task Final_index_entries_older_than_the_result_ttl_leave_the_counts_and_pages()
    {
        await using var store = Open(ttl: TimeSpan.FromMilliseconds(300));
        await store.EnqueueAsync("old", New());
        var lease = Assert.Single(await store.FetchAsync(["old"], 1, CancellationToken.None));
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        Assert.Equal(1, (await store.CountAsync("old")).Succeeded);
        await Poll.UntilAsync(async () => (await store.CountAsync("old")).Succeeded == 0, "the succeeded entry passes the TTL", Bound);
        Assert.Empty(await store.ListAsync("old", TaskState.Succeeded, 0, 10));
        Assert.Equal(0, await Raw.ListLengthAsync(K("old", "succeeded")));
    }

    // ---- Upgrade from 0.1 ----

    [Fact]
    public async Task Messages_left_by_the_0_1_layout_drain_into_the_store_under_their_own_ids()
    {
        // The 0.1 layout: LPUSH ready:<p> <envelope v1>; an in-flight list of a worker whose
        // heartbeat (workers zset score) ended; ZADD scheduled <due> <priority byte + envelope>.
        await Raw.ListLeftPushAsync(K("old", "ready:0"), Envelope("Add", 1, "aaa", "old"));
        await Raw.ListLeftPushAsync(K("old", "ready:0"), Envelope("Add", 2, "bbb", "old"));
        await Raw.ListLeftPushAsync(K("old", "ready:5"), Envelope("Mul", 3, "ccc", "old", 5));
        await Raw.SortedSetAddAsync(K("old", "workers"), "host:1", DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds());
        await Raw.ListLeftPushAsync(K("old", "inflight:host:1"), (RedisValue)(byte[])[0, .. Envelope("Add", 4, "ddd", "old")]);
        await Raw.SortedSetAddAsync(K("old", "scheduled"), (RedisValue)(byte[])[1, .. Envelope("Add", 5, "eee", "old", 1)], DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
        await Raw.ListLeftPushAsync(K("old", "ready:0"), (RedisValue)new byte[] { 0xc1 }); // not an envelope: still moved, to be failed by a worker

        Assert.Equal(6, await _store.MigrateLegacyAsync(["old"]));
        Assert.Equal(0, await _store.MigrateLegacyAsync(["old"]));
        Assert.False(await Raw.KeyExistsAsync(K("old", "ready:0")));
        Assert.False(await Raw.KeyExistsAsync(K("old", "inflight:host:1")));
        Assert.False(await Raw.KeyExistsAsync(K("old", "scheduled")));

        var counts = await _store.CountAsync("old");
        Assert.Equal((5L, 1L), (counts.Pending, counts.Scheduled));
        Assert.Equal(TaskState.Scheduled, (await _store.GetAsync("eee@old"))!.State);
        Assert.Equal("Mul", (await _store.GetAsync("ccc@old"))!.TaskName);
        var leases = await _store.FetchAsync(["old"], 10, CancellationToken.None);
        Assert.Equal(["ccc@old", "aaa@old", "bbb@old"], leases.Take(3).Select(l => l.Id));
        Assert.Equal("ddd@old", leases[4].Id);
        Assert.EndsWith("@old", leases[3].Id, StringComparison.Ordinal); // the unreadable one, under a sequence id
        Assert.Equal(Envelope("Add", 2, "bbb", "old").Length, leases[2].Envelope.Length);
    }

    // ---- Memory layout ----

    [Fact]
    public async Task Pending_tasks_live_in_listpack_buckets_of_128_and_small_records_need_no_key_of_their_own()
    {
        await _store.EnqueueManyAsync("mem", [.. Enumerable.Range(0, 1000).Select(i => New(Small(i)))]);
        var server = _connection.GetServer(K("mem", "seq"));
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: $"{_prefix}:{{mem}}:*"))
        {
            keys.Add(key!);
        }

        // seq, open, pending:0, and buckets 0..7 (sequences 1..1000): no key per task.
        Assert.Equal(11, keys.Count);
        Assert.Equal("listpack", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("mem", "t:3")));
        var bucket = (long)await Raw.ExecuteAsync("MEMORY", "USAGE", K("mem", "t:3"));
        Assert.True(bucket < 128 * 48, $"a bucket of 128 small records takes {bucket} B");
    }

    [Fact]
    public async Task Long_records_sent_together_stay_in_their_bucket_which_turns_wide_and_a_long_record_among_short_ones_gets_its_side_key()
    {
        // Input: 200 tasks with 66-byte envelopes (88-byte records: a version-1 envelope carries
        // its id) in one call, then one more
        // sent alone; to a queue of short tasks, one long task. Expected: the 200 records are
        // fields of buckets 0 and 1 (127 and 73 of them: at least 64 each), which Redis made
        // hashtables; the one sent alone goes into bucket 1 too; no side key x:<seq>, while they
        // are pending, running (a worker number added) and after they succeeded. Once every task
        // of bucket 0 has succeeded (short records again) it is a listpack again, with the result
        // TTL; bucket 1, with a task still pending, stays as it is. The long task among short
        // ones gets its side key, and its bucket stays a listpack.
        var envelopes = Enumerable.Range(0, 200).Select(i => Envelope("Add", i)).ToArray();
        var ids = await _store.EnqueueManyAsync("wd", [.. envelopes.Select(e => New(e))]);
        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("wd", "t:0")));
        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("wd", "t:1")));
        var late = await _store.EnqueueAsync("wd", New(Envelope("Add", 5)));
        Assert.Empty(await SideKeysAsync("wd"));
        Assert.Equal(Envelope("Add", 5).Length, (await _store.GetStoredAsync(late))!.Envelope.Length);

        var leases = new List<TaskLease>();
        using (var cts = new CancellationTokenSource(Bound))
        {
            while (leases.Count < 200)
            {
                leases.AddRange(await _store.FetchAsync(["wd"], Math.Min(64, 200 - leases.Count), cts.Token));
            }
        }

        Assert.Empty(await SideKeysAsync("wd"));
        Assert.Equal(TaskState.Started, (await _store.GetAsync(ids[150]))!.State);
        Assert.Equal(envelopes[150], (await _store.GetStoredAsync(ids[150]))!.Envelope.ToArray());
        foreach (var lease in leases)
        {
            Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 7 })));
        }

        Assert.Empty(await SideKeysAsync("wd"));
        Assert.All(await Task.WhenAll(ids.Select(id => _store.GetAsync(id).AsTask())), info => Assert.Equal(TaskState.Succeeded, info!.State));
        Assert.Equal("listpack", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("wd", "t:0")));
        Assert.NotNull(await Raw.KeyTimeToLiveAsync(K("wd", "t:0")));
        Assert.Equal(127, await Raw.HashLengthAsync(K("wd", "t:0")));
        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("wd", "t:1")));
        Assert.Null(await Raw.KeyTimeToLiveAsync(K("wd", "t:1")));
        Assert.False(await Raw.KeyExistsAsync(K("wd", "narrowing")));
        Assert.Equal([7], (await _store.GetAsync(ids[5]))!.Result.ToArray());
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(late))!.State);

        await _store.EnqueueManyAsync("nw", [.. Enumerable.Range(0, 10).Select(i => New(Small(i)))]);
        var alone = await _store.EnqueueAsync("nw", New(VersionTwo(100)));
        Assert.Equal([K("nw", "x:" + Sequence(alone)).ToString()], await SideKeysAsync("nw"));
        Assert.Equal("listpack", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("nw", "t:0")));
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(alone))!.State);
    }

    [Fact]
    public async Task A_record_in_its_side_key_moves_into_its_bucket_once_the_bucket_is_wide_and_reads_the_same()
    {
        // Input: one long task sent alone (its record in x:1, as every version before wide buckets
        // kept it), then 70 long tasks in one call into the same bucket, which turns it wide.
        // Expected: x:1 stays while its task waits; the fetch that starts it writes its record into
        // the bucket and deletes x:1; every task reads back with its envelope and succeeds; no side
        // key is left. Its failure, with a long error, is a final record over 64 bytes: it goes to
        // x:1 again, with the result TTL.
        var alone = VersionTwo(100, 99);
        var first = await _store.EnqueueAsync("mv", New(alone));
        Assert.True(await Raw.KeyExistsAsync(K("mv", "x:1")));
        var envelopes = Enumerable.Range(0, 70).Select(i => VersionTwo(100, i)).ToArray();
        var ids = await _store.EnqueueManyAsync("mv", [.. envelopes.Select(e => New(e))]);
        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("mv", "t:0")));
        Assert.Equal([K("mv", "x:1").ToString()], await SideKeysAsync("mv"));

        var lease = await FetchOneAsync("mv");
        Assert.Equal(first, lease.Id);
        Assert.Equal(alone, lease.Envelope.ToArray());
        Assert.Empty(await SideKeysAsync("mv"));
        Assert.Equal((TaskState.Started, 1), ((await _store.GetAsync(first))!.State, (await _store.GetAsync(first))!.Attempt));
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", new string('m', 300), null))));
        Assert.Equal([K("mv", "x:1").ToString()], await SideKeysAsync("mv"));
        Assert.NotNull(await Raw.KeyTimeToLiveAsync(K("mv", "x:1")));
        Assert.Equal(new string('m', 300), (await _store.GetAsync(first))!.Error!.Message);
        Assert.Equal(envelopes[3], (await _store.GetStoredAsync(ids[3]))!.Envelope.ToArray());
    }

    [Fact]
    public async Task Long_results_in_a_wide_bucket_go_after_the_result_ttl_while_the_bucket_still_has_a_task_open()
    {
        // Input: with a result TTL of 500 ms, 70 long tasks and one due in an hour sent together
        // (one wide bucket); the 70 succeed with 200-byte results. Expected: each result is in its
        // side key with the TTL, so after the TTL the 70 are gone (read as no task) while the
        // bucket, whose scheduled task is still open, has no TTL and that task is still there.
        await using var store = Open(ttl: TimeSpan.FromMilliseconds(500));
        var tasks = Enumerable.Range(0, 70).Select(i => New(VersionTwo(100, i))).ToList();
        tasks.Add(New(VersionTwo(100, 70), due: DateTimeOffset.UtcNow.AddHours(1)));
        var ids = await store.EnqueueManyAsync("rt", tasks);
        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("rt", "t:0")));
        var leases = new List<TaskLease>();
        using (var cts = new CancellationTokenSource(Bound))
        {
            while (leases.Count < 70)
            {
                leases.AddRange(await store.FetchAsync(["rt"], 70 - leases.Count, cts.Token));
            }
        }

        foreach (var lease in leases)
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[200])));
        }

        Assert.Equal(200, (await store.GetAsync(ids[0]))!.Result.Length);
        Assert.Equal(70, (await SideKeysAsync("rt")).Count);
        using (var cts = new CancellationTokenSource(Bound))
        {
            while (await store.GetAsync(ids[69]) is not null)
            {
                await Task.Delay(100, cts.Token);
            }
        }

        Assert.All(await Task.WhenAll(ids.Take(70).Select(id => store.GetAsync(id).AsTask())), Assert.Null);
        Assert.Null(await Raw.KeyTimeToLiveAsync(K("rt", "t:0")));
        Assert.Equal(TaskState.Scheduled, (await store.GetAsync(ids[70]))!.State);
    }

    [Fact]
    public async Task A_wide_bucket_whose_last_long_record_is_deleted_is_written_again_as_a_listpack()
    {
        // Input: 70 long tasks sent together (a wide bucket); 69 succeed with 1-byte results; the
        // 70th, still pending, is deleted; the key the rewrite goes through, P:{q}:narrowing, holds
        // a list left there by hand. Expected: the bucket, all of whose tasks are now final with
        // short records, is a listpack again with the result TTL, the 69 read back, and the
        // narrowing key is gone (the script empties it first, so its HSET cannot meet a list).
        var ids = await _store.EnqueueManyAsync("dl", [.. Enumerable.Range(0, 70).Select(i => New(Envelope("Add", i)))]);
        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("dl", "t:0")));
        var leases = await _store.FetchAsync(["dl"], 69, CancellationToken.None);
        Assert.Equal(69, leases.Count);
        foreach (var lease in leases)
        {
            Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        }

        Assert.Equal("hashtable", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("dl", "t:0")));
        await Raw.ListLeftPushAsync(K("dl", "narrowing"), "a list where the rewrite writes");
        Assert.Equal(1, await _store.DeleteAsync([ids[69]]));
        Assert.False(await Raw.KeyExistsAsync(K("dl", "narrowing")));
        Assert.Equal("listpack", (string?)await Raw.ExecuteAsync("OBJECT", "ENCODING", K("dl", "t:0")));
        Assert.NotNull(await Raw.KeyTimeToLiveAsync(K("dl", "t:0")));
        Assert.Equal(69, await Raw.HashLengthAsync(K("dl", "t:0")));
        Assert.Equal(TaskState.Succeeded, (await _store.GetAsync(ids[0]))!.State);
    }

    private async Task<List<string>> SideKeysAsync(string queue)
    {
        var keys = new List<string>();
        await foreach (var key in _connection.GetServer(K(queue, "seq")).KeysAsync(pattern: $"{_prefix}:{{{queue}}}:x:*"))
        {
            keys.Add(key.ToString());
        }

        return keys;
    }

    [Fact]
    public async Task A_running_record_of_a_typical_small_task_stays_in_its_bucket_and_still_names_its_worker_by_host_and_pid()
    {
        // A 40-byte version-2 envelope: a 62-byte pending record. A running one keeps the worker's
        // number (a few bytes), not its host:pid, so it needs no side key x:<seq>.
        var id = await _store.EnqueueAsync("wk", New(VersionTwo(40)));
        var lease = await FetchOneAsync("wk");
        Assert.False(await Raw.KeyExistsAsync(K("wk", "x:1")));
        Assert.Equal(Worker.WorkerIdentity.Name, (await _store.GetAsync(id))!.Worker);

        // Another store (another process: nothing cached) reads the name from the registry, for a
        // running task, a page, a waiter's final state, and after Redis lost the registry.
        await using var other = Open();
        Assert.Equal(Worker.WorkerIdentity.Name, (await other.GetAsync(id))!.Worker);
        var waiting = Open();
        await using (waiting)
        {
            var wait = waiting.WaitAsync(id, Bound).AsTask();
            Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
            Assert.Equal(Worker.WorkerIdentity.Name, (await wait).Worker);
        }

        Assert.Equal(Worker.WorkerIdentity.Name, Assert.Single(await other.ListAsync("wk", TaskState.Succeeded, 0, 10)).Info.Worker);
        await Raw.KeyDeleteAsync($"{_prefix}:workers:names");
        await using var late = Open();
        Assert.Null((await late.GetAsync(id))!.Worker); // the number is not known any more: no worker rather than a wrong one
        await _store.HeartbeatAsync(new WorkerDescription(["wk"], 1, new WorkerStatus()), []);
        Assert.Equal(Worker.WorkerIdentity.Name, (await late.GetAsync(id))!.Worker); // the heartbeat registered it again
    }

    private RedisKey WorkerNames => $"{_prefix}:workers:names";

    private RedisKey WorkerSeen => $"{_prefix}:workers:seen:{{{_prefix}:workers:names}}";

    private static long LongAgo => (DateTimeOffset.UtcNow - RedisTaskStore.WorkerNumberKeep - TimeSpan.FromDays(1)).ToUnixTimeMilliseconds();

    [Fact]
    public async Task A_worker_number_nobody_confirmed_for_the_keeping_time_is_forgotten_and_reads_as_no_worker_until_its_worker_confirms_it()
    {
        // Input: a worker ran a task, then its number went unconfirmed past the keeping time (its
        // time set back by hand). Expected: the next registration of another worker forgets it,
        // a reader of the task gets no worker (never another's), and the worker's next heartbeat
        // gives the number back, so the task names it again.
        var id = await _store.EnqueueAsync("wn", New(Small()));
        Assert.True(await _store.CompleteAsync(await FetchOneAsync("wn"), TaskCompletion.Succeeded(new byte[] { 1 })));
        var number = (string)Assert.Single(await Raw.SortedSetRangeByRankAsync(WorkerSeen))!;
        Assert.Equal(Worker.WorkerIdentity.Name, (string?)await Raw.HashGetAsync(WorkerNames, number));
        await Raw.SortedSetAddAsync(WorkerSeen, number, LongAgo);

        await using var other = Open();
        await other.EnqueueAsync("wn", New(Small()));
        await FetchOneAsync("wn", other);
        Assert.False(await Raw.HashExistsAsync(WorkerNames, number));
        var left = (string)Assert.Single(await Raw.SortedSetRangeByRankAsync(WorkerSeen))!;
        Assert.NotEqual(number, left);
        await using var reader = Open();
        Assert.Null((await reader.GetAsync(id))!.Worker);

        await _store.HeartbeatAsync(new WorkerDescription(["wn"], 1, new WorkerStatus()), []);
        Assert.Equal(Worker.WorkerIdentity.Name, (string?)await Raw.HashGetAsync(WorkerNames, number));
        Assert.Equal(Worker.WorkerIdentity.Name, (await reader.GetAsync(id))!.Worker);
        Assert.Equal(2, await Raw.SortedSetLengthAsync(WorkerSeen));
    }

    [Fact]
    public async Task Worker_numbers_given_before_their_times_were_kept_get_one_and_are_forgotten_a_keeping_time_later()
    {
        // Input: a registry as an earlier version left it: numbers 1 and 2 named, 'next' at 2, no
        // times. Expected: the next registration gives both a time (and number 3 to itself); once
        // those times are past the keeping time, the registration after forgets 1 and 2 and keeps
        // the live workers' numbers; numbers are still never given twice. A member 'next' put in
        // the times by hand leaves them without taking the hash's counter with it.
        await Raw.HashSetAsync(WorkerNames, [new("next", 2), new("1", "old-host:11"), new("2", "old-host:12")]);
        await _store.EnqueueAsync("wo", New(Small()));
        await FetchOneAsync("wo");
        Assert.Equal(["1", "2", "3"], (await Raw.SortedSetRangeByRankAsync(WorkerSeen)).Select(v => (string)v!).Order());
        Assert.Equal("3", (string?)await Raw.HashGetAsync(WorkerNames, "swept"));
        await Raw.SortedSetAddAsync(WorkerSeen, [new("1", LongAgo), new("2", LongAgo), new("next", LongAgo)]);

        await using var other = Open();
        await other.EnqueueAsync("wo", New(Small()));
        await FetchOneAsync("wo", other);
        Assert.Equal(["3", "4"], (await Raw.SortedSetRangeByRankAsync(WorkerSeen)).Select(v => (string)v!).Order());
        var fields = (await Raw.HashKeysAsync(WorkerNames)).Select(v => (string)v!).Order();
        Assert.Equal(["3", "4", "next", "swept"], fields);
        Assert.Equal("4", (string?)await Raw.HashGetAsync(WorkerNames, "next"));
    }

    [Theory]
    [InlineData("-1e300")]
    [InlineData("nan")]
    [InlineData("inf")]
    [InlineData("1e300")]
    [InlineData("2.5")]
    [InlineData("not a number")]
    [InlineData("7")]
    public async Task A_sweep_mark_written_by_hand_that_is_no_whole_number_up_to_next_starts_the_sweep_again(string mark)
    {
        // Input: the registry's sweep mark set by hand to a value that is not a whole number from 0
        // to 'next' (2): one past 2^53 would make the sweep's loop never end and hold the server.
        // Expected: registration answers at once, the sweep starts again from 0 (numbers 1 and 2 get
        // a time), and the mark is a whole number again.
        await Raw.HashSetAsync(WorkerNames, [new("next", 2), new("1", "old-host:11"), new("2", "old-host:12"), new("swept", mark)]);
        var id = await _store.EnqueueAsync("ws", New(Small()));
        Assert.True(await _store.CompleteAsync(await FetchOneAsync("ws"), TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal(Worker.WorkerIdentity.Name, (await _store.GetAsync(id))!.Worker);
        Assert.Equal(["1", "2", "3"], (await Raw.SortedSetRangeByRankAsync(WorkerSeen)).Select(v => (string)v!).Order());
        Assert.Equal("3", (string?)await Raw.HashGetAsync(WorkerNames, "swept"));
    }

    [Fact]
    public async Task A_worker_number_times_key_of_another_type_costs_the_forgetting_never_a_worker_its_number()
    {
        // Input: the registry's times key holds a string. Expected: registration still gives the
        // worker its number (the task runs and names its worker), the string is left as it is and
        // nothing is forgotten.
        await Raw.StringSetAsync(WorkerSeen, "not a sorted set");
        await Raw.HashSetAsync(WorkerNames, [new("next", 1), new("1", "old-host:11")]);
        var id = await _store.EnqueueAsync("wt", New(Small()));
        Assert.True(await _store.CompleteAsync(await FetchOneAsync("wt"), TaskCompletion.Succeeded(new byte[] { 1 })));
        Assert.Equal(Worker.WorkerIdentity.Name, (await _store.GetAsync(id))!.Worker);
        Assert.Equal("not a sorted set", (string?)await Raw.StringGetAsync(WorkerSeen));
        Assert.Equal("old-host:11", (string?)await Raw.HashGetAsync(WorkerNames, "1"));
        Assert.Equal(Worker.WorkerIdentity.Name, (string?)await Raw.HashGetAsync(WorkerNames, "2"));
    }

    [Fact]
    public async Task A_bucket_gets_the_result_ttl_once_none_of_its_tasks_is_open_and_loses_it_when_one_comes_back()
    {
        var id = await _store.EnqueueAsync("ttl", New(Small()));
        Assert.Null(await Raw.KeyTimeToLiveAsync(K("ttl", "t:0")));
        var lease = await FetchOneAsync("ttl");
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));
        Assert.NotNull(await Raw.KeyTimeToLiveAsync(K("ttl", "t:0")));
        Assert.Equal(1, await _store.RequeueAsync([id]));
        Assert.Null(await Raw.KeyTimeToLiveAsync(K("ttl", "t:0")));
    }

    [Fact]
    public async Task A_task_ended_by_a_tool_with_another_result_ttl_is_kept_as_long_as_its_producer_asked()
    {
        // Input: a producer keeps results 10 minutes; a tool (the CLI, say) opened with a TTL of
        // one day cancels one task and a worker with a TTL of one day fails another. Expected:
        // both records expire after the producer's 10 minutes, not the callers' day.
        var id = await _store.EnqueueAsync("tool-ttl", New(Small()));
        await using var tool = Open(ttl: TimeSpan.FromDays(1));
        Assert.True(await tool.CancelAsync(id));
        var ttl = await Raw.KeyTimeToLiveAsync(K("tool-ttl", "t:0"));
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        var failed = await _store.EnqueueAsync("tool-ttl", New(Small()));
        var lease = Assert.Single(await tool.FetchAsync(["tool-ttl"], 1, CancellationToken.None));
        Assert.Equal(failed, lease.Id);
        Assert.True(await tool.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "m", null))));
        ttl = await Raw.KeyTimeToLiveAsync(K("tool-ttl", "t:0"));
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }
}

/// <summary>The Redis task store on a single server.</summary>
public sealed class StandaloneRedisTaskStoreTests(RedisFixture redis) : RedisTaskStoreTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>The Redis task store on a 3-master Cluster: every script's keys share the queue's slot.</summary>
public sealed class ClusterRedisTaskStoreTests(RedisClusterFixture cluster) : RedisTaskStoreTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

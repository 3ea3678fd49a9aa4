using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Redis.IntegrationTests.Store;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// The core behaviour on a real Redis: run once against a standalone server and once against a
/// three-master Cluster (each test with a key prefix of its own).
/// </summary>
public abstract class RedisContractTests
{
    protected abstract string Endpoint { get; }

    private Task<RedisHost> Start(Action<WorkerOptions>? worker = null, bool withWorker = true, string? prefix = null, Action<RedisTransportOptions>? redis = null)
        => RedisHost.StartAsync(Endpoint, prefix, worker, withWorker, redis);

    [Fact]
    public async Task Typed_results_come_back_through_Redis()
    {
        await using var host = await Start();
        var add = await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 3);
        var slow = await Tasks.SlowAdd.WithClient(host.Client).EnqueueAsync(40L, 2L, 10);
        var report = await Tasks.Report.WithClient(host.Client).With(new EnqueueOptions { Queue = "default" }).EnqueueAsync("q4");

        Assert.Equal(5, await add.GetAsync(RedisHost.Wait));
        Assert.Equal(42L, await slow.GetAsync(RedisHost.Wait));
        Assert.Equal("report:q4", await report.GetAsync(RedisHost.Wait));
        Assert.Equal(TaskState.Succeeded, await add.GetStateAsync());
    }

    [Fact]
    public async Task Another_client_reads_a_result_by_id_and_an_unknown_id_is_not_found_at_once()
    {
        await using var host = await Start();
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(20, 22);
        await sum.GetAsync(RedisHost.Wait);

        await using var other = await Start(withWorker: false, prefix: host.Prefix);
        Assert.Equal(42, await Tasks.Add.WithClient(other.Client).GetResult(sum.Id).GetAsync(RedisHost.Wait));

        // An id of no form the store makes, and one of a queue's form that names nothing stored:
        // nothing to read, and a wait says so at once instead of running into its timeout.
        foreach (var id in new[] { "never-enqueued", "never-enqueued@default" })
        {
            var unknown = Tasks.Add.WithClient(other.Client).GetResult(id);
            Assert.Null(await unknown.GetInfoAsync());
            await Assert.ThrowsAsync<TaskNotFoundException>(async () => await unknown.GetStateAsync());
            var notFound = await Assert.ThrowsAsync<TaskNotFoundException>(() => unknown.GetAsync(RedisHost.Wait).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.False(notFound.Lost);
            Assert.Equal(id, notFound.TaskId);
        }
    }

    [Fact]
    public async Task A_failure_comes_back_with_the_remote_error_and_is_dead_lettered()
    {
        await using var host = await Start();
        var failing = await Tasks.Fail.WithClient(host.Client).EnqueueAsync("card declined");
        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => failing.GetAsync(RedisHost.Wait));
        Assert.Equal("System.InvalidOperationException", failure.RemoteType);
        Assert.Equal("card declined", failure.Error.Message);

        await Poll.UntilAsync(async () => (await host.Store.CountAsync("default")).Failed == 1, "the failure is kept in the failed index");
        var letter = Assert.Single(await host.Store.ListAsync("default", TaskState.Failed, 0, 10));
        Assert.Equal(failing.Id, letter.Info.Id);
        Assert.Contains("card declined", letter.Info.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("it.fail", Serialization.TaskEnvelope.Read(letter.Envelope).TaskName); // kept, so that it can be retried
    }

    [Fact]
    public async Task Retries_wait_in_the_retrying_index_with_their_states()
    {
        await using var host = await Start();
        var key = Guid.NewGuid().ToString();
        var once = await Tasks.RetryOnce.WithClient(host.Client).EnqueueAsync(key);

        // Between its runs it waits Retrying, with its error, in the retrying index until it is due.
        await Poll.UntilAsync(async () => await once.GetStateAsync() == TaskState.Retrying, "the task is Retrying");
        Assert.Equal("first call fails", (await once.GetInfoAsync())!.Error!.Message);
        var waiting = Assert.Single(await host.Store.ListAsync("default", TaskState.Retrying, 0, 10));
        Assert.Equal(once.Id, waiting.Info.Id);
        Assert.NotNull(waiting.DueAt);
        Assert.Equal(2, await once.GetAsync(RedisHost.Wait));
        Assert.Equal(2, (await once.GetInfoAsync())!.Attempt); // succeeded on its second run

        var flaky = await Tasks.Flaky.WithClient(host.Client).EnqueueAsync(key + "f", 2);
        Assert.Equal(3, await flaky.GetAsync(RedisHost.Wait));
        Assert.Equal(3, (await flaky.GetInfoAsync())!.Attempt);
    }

    [Fact]
    public async Task A_task_that_outlives_its_timeout_fails()
    {
        await using var host = await Start();
        var sleep = await Tasks.Sleep.WithClient(host.Client).EnqueueAsync(10_000);
        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => sleep.GetAsync(RedisHost.Wait));
        Assert.Equal(typeof(TaskTimeoutException).FullName, failure.RemoteType);
    }

    [Fact]
    public async Task A_delayed_task_waits_Scheduled_then_runs()
    {
        await using var host = await Start();
        var started = DateTimeOffset.UtcNow;
        var later = await Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { Delay = TimeSpan.FromSeconds(1.5) }).EnqueueAsync(1, 1);
        Assert.Equal(TaskState.Scheduled, await later.GetStateAsync());
        Assert.Equal(2, await later.GetAsync(RedisHost.Wait));
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(1450));
    }

    [Fact]
    public async Task A_task_not_started_before_it_expires_ends_Expired()
    {
        await using var producer = await Start(withWorker: false);
        var expiring = await Tasks.Add.WithClient(producer.Client).With(new EnqueueOptions { Expires = TimeSpan.FromMilliseconds(100) }).EnqueueAsync(1, 2);
        await Task.Delay(300);

        await using var worker = await Start(prefix: producer.Prefix);
        var revoked = await Assert.ThrowsAsync<TaskRevokedException>(() => expiring.GetAsync(RedisHost.Wait));
        Assert.Equal(TaskState.Expired, revoked.State);
    }

    [Fact]
    public async Task Priorities_are_served_highest_first_by_a_fetch()
    {
        await using var producer = await Start(withWorker: false);
        var store = producer.Store;
        var priorities = new[] { 0, 5, 9, 5, 0, 9 };
        for (var i = 0; i < priorities.Length; i++)
        {
            await store.EnqueueAsync("prio", new TaskToEnqueue(new byte[] { (byte)priorities[i], (byte)i }, priorities[i]));
        }

        var leases = await store.FetchAsync(["prio"], 10, CancellationToken.None);
        Assert.Equal(new[] { (9, 2), (9, 5), (5, 1), (5, 3), (0, 0), (0, 4) }, leases.Select(l => ((int)l.Envelope.Span[0], (int)l.Envelope.Span[1])));
        foreach (var lease in leases)
        {
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(default)));
        }
    }

    [Fact]
    public async Task A_worker_serves_several_queues_and_only_those()
    {
        await using var defaultOnly = await Start();
        var report = await Tasks.Report.WithClient(defaultOnly.Client).EnqueueAsync("q1");
        await Task.Delay(300);
        Assert.Equal(TaskState.Pending, await report.GetStateAsync());

        await using var both = await Start(w => w.Queues = ["reports", "default"], prefix: defaultOnly.Prefix);
        Assert.Equal("report:q1", await report.GetAsync(RedisHost.Wait));
        Assert.Equal(3, await (await Tasks.Add.WithClient(both.Client).EnqueueAsync(1, 2)).GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Garbage_enqueued_as_a_message_ends_Failed_with_the_reason_and_the_worker_keeps_going()
    {
        await using var host = await Start();
        var proxy = Tasks.Add.WithClient(host.Client);
        var before = await proxy.EnqueueAsync(1, 1);
        byte[] garbage = "GET / HTTP/1.1\r\n"u8.ToArray();
        byte[] truncated = [0x97, 0x02, 0xA2, 0x69];
        byte[] futureVersion = MessagePackSerializer.Serialize(new object[] { 7, "it.add", 0 });
        foreach (var bytes in new[] { garbage, truncated, futureVersion })
        {
            await host.Store.EnqueueRawAsync("default", bytes);
        }

        var after = await proxy.EnqueueAsync(2, 2);

        Assert.Equal(2, await before.GetAsync(RedisHost.Wait));
        Assert.Equal(4, await after.GetAsync(RedisHost.Wait));
        await Poll.UntilAsync(async () => (await host.Store.CountAsync("default")).Failed == 3, "three failed tasks");
        var dead = await host.Store.ListAsync("default", TaskState.Failed, 0, 10);
        Assert.Contains(dead, d => d.Envelope.Span.SequenceEqual(garbage) && d.Info.Error!.Message.Contains("expected a MessagePack array", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Envelope.Span.SequenceEqual(truncated) && d.Info.Error!.Message.Contains("malformed envelope", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Envelope.Span.SequenceEqual(futureVersion) && d.Info.Error!.Message.Contains("unsupported envelope version 7", StringComparison.Ordinal));
        Assert.All(dead, d => Assert.Equal("?", d.Info.TaskName));
        Assert.Equal(6, await (await proxy.EnqueueAsync(3, 3)).GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Results_carry_the_configured_ttl()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, options: o => o.ResultTtl = TimeSpan.FromMinutes(10));
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        await sum.GetAsync(RedisHost.Wait);

        // The record is a field of its bucket hash, which gets the TTL once none of its tasks is open.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var ttl = await connection.GetDatabase().KeyTimeToLiveAsync(StoreTestKit.Bucket(host.Prefix, "default", sum.Id));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task A_stopping_worker_puts_unstarted_and_interrupted_tasks_back_at_the_head_of_the_queue()
    {
        var worker = await Start(w => { w.Concurrency = 1; w.Prefetch = 4; w.ShutdownTimeout = TimeSpan.FromMilliseconds(300); });
        await using var reader = await Start(withWorker: false, prefix: worker.Prefix);
        var blocked = await Tasks.Block.WithClient(worker.Client).EnqueueAsync();
        await Poll.UntilAsync(async () => await blocked.GetStateAsync() == TaskState.Started, "the blocking task started");
        var adds = new AsyncResult<int>[4];
        for (var i = 0; i < adds.Length; i++)
        {
            adds[i] = await Tasks.Add.WithClient(worker.Client).EnqueueAsync(i, i);
        }

        await worker.DisposeAsync();

        // Nothing is left Started: the interrupted run is first, then the others in their order,
        // and the interrupted run does not count as an attempt.
        var counts = await reader.Store.CountAsync("default");
        Assert.Equal((5L, 0L), (counts.Pending, counts.Started));
        var pending = await reader.Store.ListAsync("default", TaskState.Pending, 0, 10);
        Assert.Equal([blocked.Id, .. adds.Select(a => a.Id)], pending.Select(p => p.Info.Id));
        Assert.Equal(0, pending[0].Info.Attempt);
    }

    [Fact]
    public async Task The_tasks_a_dead_worker_fetched_come_back_once_their_lease_expires_and_run()
    {
        await using var producer = await Start(withWorker: false);
        var sums = new AsyncResult<int>[3];
        for (var i = 0; i < sums.Length; i++)
        {
            sums[i] = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(i, 10);
        }

        // A worker that fetched them and died: nothing renews their leases (2 s here).
        var lost = await producer.Store.FetchAsync(["default"], 10, CancellationToken.None);
        Assert.Equal(sums.Select(s => s.Id), lost.Select(l => l.Id));
        Assert.All(await Task.WhenAll(sums.Select(s => s.GetStateAsync().AsTask())), s => Assert.Equal(TaskState.Started, s));

        await using var worker = await Start(prefix: producer.Prefix);
        for (var i = 0; i < sums.Length; i++)
        {
            Assert.Equal(i + 10, await sums[i].GetAsync(RedisHost.Wait));
            Assert.Equal(1, (await sums[i].GetInfoAsync())!.Attempt); // the lost run does not count
        }

        // The dead worker's leases settle nothing any more.
        Assert.False(await producer.Store.CompleteAsync(lost[0], TaskCompletion.Failed(new TaskError("X", "late", null))));
        Assert.Equal(TaskState.Succeeded, await sums[0].GetStateAsync());
    }

    [Fact]
    public async Task A_pending_entry_whose_task_is_already_final_is_dropped_and_not_run_again()
    {
        // A short idle and safety look interval: an entry pushed by hand wakes no fetcher (nor
        // does a task pushed behind it, to a list that is not empty), so only the safety look finds it.
        await using var host = await Start(redis: r => { r.IdleFetchInterval = TimeSpan.FromMilliseconds(200); r.SafetyLookInterval = TimeSpan.FromMilliseconds(200); });
        var key = Guid.NewGuid().ToString();
        var record = await Tasks.Record.WithClient(host.Client).EnqueueAsync(key);
        await record.GetAsync(RedisHost.Wait);
        Assert.Equal(1, WorkerTasks.Calls[key]);

        // Its sequence back in the pending list, as if an entry had been left behind.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var pendingList = StoreTestKit.Key(host.Prefix, "default", "pending:0");
        await connection.GetDatabase().ListLeftPushAsync(pendingList, StoreTestKit.Sequence(record.Id));
        var after = await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 2);

        Assert.Equal(4, await after.GetAsync(RedisHost.Wait));
        Assert.Equal(0, await connection.GetDatabase().ListLengthAsync(pendingList));
        Assert.Equal(1, WorkerTasks.Calls[key]);
        var info = (await record.GetInfoAsync())!;
        Assert.Equal((TaskState.Succeeded, 1), (info.State, info.Attempt));
    }

    [Fact]
    public async Task A_canceled_pending_task_never_runs_and_a_canceled_running_task_stops()
    {
        await using var producer = await Start(withWorker: false);
        var key = Guid.NewGuid().ToString();
        var pending = await Tasks.Record.WithClient(producer.Client).EnqueueAsync(key);
        var scheduled = await Tasks.Record.WithClient(producer.Client).With(new EnqueueOptions { Delay = TimeSpan.FromMilliseconds(200) }).EnqueueAsync(key + "s");
        Assert.True(await pending.CancelAsync());
        Assert.True(await scheduled.CancelAsync());
        Assert.Equal(TaskState.Canceled, (await Assert.ThrowsAsync<TaskRevokedException>(() => pending.GetAsync(RedisHost.Wait))).State);
        Assert.Equal(0, (await pending.GetInfoAsync())!.Attempt); // canceled before any run

        await using var worker = await Start(prefix: producer.Prefix);
        var blocked = await Tasks.Block.WithClient(producer.Client).EnqueueAsync();
        await Poll.UntilAsync(async () => await blocked.GetStateAsync() == TaskState.Started, "the blocking task started");
        Assert.True(await blocked.CancelAsync());
        Assert.Equal(TaskState.Canceled, (await Assert.ThrowsAsync<TaskRevokedException>(() => blocked.GetAsync(RedisHost.Wait))).State);
        Assert.Equal(1, (await blocked.GetInfoAsync())!.Attempt); // keeps the number of the run it stopped

        var sum = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(2, 2);
        Assert.Equal(4, await sum.GetAsync(RedisHost.Wait));
        Assert.False(await sum.CancelAsync());
        await Task.Delay(400);
        Assert.False(WorkerTasks.Calls.ContainsKey(key));
        Assert.False(WorkerTasks.Calls.ContainsKey(key + "s"));
        Assert.Equal(TaskState.Canceled, await blocked.GetStateAsync());
    }

    [Fact]
    public async Task Bulk_enqueues_keep_their_order_and_each_gets_its_result()
    {
        await using var producer = await Start(withWorker: false);
        var sums = await Tasks.Add.WithClient(producer.Client).EnqueueManyAsync(Enumerable.Range(0, 1200).Select(i => (i, 1)));
        Assert.Equal(1200, (await producer.Store.CountAsync("default")).Pending);

        // Fetched oldest first, then put back at the head in their order.
        var leases = await producer.Store.FetchAsync(["default"], 3, CancellationToken.None);
        Assert.Equal(sums.Take(3).Select(s => s.Id), leases.Select(l => l.Id));
        for (var i = leases.Count - 1; i >= 0; i--)
        {
            Assert.True(await producer.Store.CompleteAsync(leases[i], TaskCompletion.Released()));
        }

        Assert.Equal(sums.Take(5).Select(s => s.Id), (await producer.Store.ListAsync("default", TaskState.Pending, 0, 5)).Select(p => p.Info.Id));

        await using var worker = await Start(w => w.Concurrency = 32, prefix: producer.Prefix);
        Assert.Equal(Enumerable.Range(1, 1200), await Task.WhenAll(sums.Select(s => s.GetAsync(RedisHost.Wait))));
    }

    [Fact]
    public async Task The_trace_context_travels_in_the_message_so_the_workers_span_continues_the_producers_trace()
    {
        var spans = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Diagnostics.TaskTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        await using var producer = await Start(withWorker: false);
        var sum = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(3, 4);
        var stored = Serialization.TaskEnvelope.Read((await producer.Store.GetStoredAsync(sum.Id))!.Envelope);
        var send = Assert.Single(spans, a => a.Kind == System.Diagnostics.ActivityKind.Producer && (string?)a.GetTagItem("messaging.message.id") == sum.Id);
        Assert.Equal(send.Id, stored.Headers![Diagnostics.TaskTelemetry.TraceParentHeader]);

        // Another host with its own connection: the span links only through the message.
        await using var worker = await Start(prefix: producer.Prefix);
        Assert.Equal(7, await sum.GetAsync(RedisHost.Wait));
        await Poll.UntilAsync(() => Task.FromResult(spans.Any(a => a.Kind == System.Diagnostics.ActivityKind.Consumer && (string?)a.GetTagItem("messaging.message.id") == sum.Id)), "the consumer span ended");
        var process = spans.Single(a => a.Kind == System.Diagnostics.ActivityKind.Consumer && (string?)a.GetTagItem("messaging.message.id") == sum.Id);
        Assert.Equal(send.TraceId, process.TraceId);
        Assert.Equal(send.SpanId, process.ParentSpanId);
    }

    [Fact]
    public async Task A_waiter_whose_notification_was_lost_is_woken_by_the_sweep()
    {
        await using var host = await Start(withWorker: false, redis: r => r.ResultPollInterval = TimeSpan.FromMilliseconds(200));
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(40, 2);
        var waiting = sum.GetAsync(RedisHost.Wait);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        // The task succeeds, but its frame goes to a channel nobody hears, as when a reconnect dropped it.
        var lease = Assert.Single(await host.Store.FetchAsync(["default"], 1, CancellationToken.None));
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var prefix = host.Prefix;
        RedisValue[] args =
        [
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 60_000, 10, 10, prefix + ":store:wake", prefix + ":store:nobody", prefix + ":store:cancel",
            1, sum.Id[..sum.Id.LastIndexOf('@')], lease.Fence, "s", MessagePackSerializer.Serialize(42), 0, StoreRecord.NameOf(lease.Envelope),
        ];
        Assert.Equal(1, (long)((RedisResult[])(await StoreScript.Complete.RunAsync(connection.GetDatabase(), [StoreTestKit.Key(prefix, "default", "seq")], args))!)[0]);
        Assert.Equal(42, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_record_holding_garbage_fails_its_waiter_with_the_reason()
    {
        await using var host = await Start(withWorker: false, redis: r => r.ResultPollInterval = TimeSpan.FromMilliseconds(200));
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var db = connection.GetDatabase();

        // Garbage already there when the wait begins: the first read says so.
        var before = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 1);
        await db.HashSetAsync(StoreTestKit.Bucket(host.Prefix, "default", before.Id), StoreTestKit.Sequence(before.Id), "not a record");
        var early = await Assert.ThrowsAsync<System.IO.InvalidDataException>(() => before.GetAsync(RedisHost.Wait));
        Assert.Contains($"The stored record of task {before.Id} is not a task store record", early.Message, StringComparison.Ordinal);

        // Garbage written while it waits, with no notification: the sweep reads it and says so.
        var during = await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 2);
        var waiting = during.GetAsync(RedisHost.Wait);
        await Task.Delay(100);
        await db.HashSetAsync(StoreTestKit.Bucket(host.Prefix, "default", during.Id), StoreTestKit.Sequence(during.Id), "not a record either");
        var late = await Assert.ThrowsAsync<System.IO.InvalidDataException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(during.Id, late.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_on_the_done_channel_is_ignored_and_waiters_still_wake()
    {
        await using var host = await Start();
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        Assert.Equal(3, await sum.GetAsync(RedisHost.Wait));

        // Random bytes, a frame cut short, a frame longer than its message, an empty message.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var subscriber = connection.GetSubscriber();
        var done = RedisChannel.Literal(host.Prefix + ":store:done");
        await subscriber.PublishAsync(done, new byte[] { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03 });
        await subscriber.PublishAsync(done, new byte[] { 0x00, 0x05, (byte)'a', (byte)'b' });
        await subscriber.PublishAsync(done, new byte[] { 0x00, 0x01, (byte)'x', 0x7f, 0xff, 0xff, 0xff, 0x00 });
        await subscriber.PublishAsync(done, Array.Empty<byte>());

        var after = await Tasks.Add.WithClient(host.Client).EnqueueManyAsync(Enumerable.Range(0, 50).Select(i => (i, 1)));
        Assert.Equal(Enumerable.Range(1, 50), await Task.WhenAll(after.Select(a => a.GetAsync(RedisHost.Wait))));
    }

    [Fact]
    public async Task Two_thousand_concurrent_enqueues_all_succeed()
    {
        await using var host = await Start(w => w.Concurrency = 32);
        var proxy = Tasks.Add.WithClient(host.Client);
        var handles = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => proxy.EnqueueAsync(i, 1)));
        var values = await Task.WhenAll(handles.Select(h => h.GetAsync(RedisHost.Wait)));
        Assert.Equal(Enumerable.Range(1, 2000), values);
    }
}

/// <summary>The core suite on a standalone redis-server.</summary>
public sealed class StandaloneRedisTests(RedisFixture redis) : RedisContractTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

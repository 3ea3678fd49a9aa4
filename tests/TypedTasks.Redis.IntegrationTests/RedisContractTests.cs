using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.TestWorker;

using TypedTasks.Testing;

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
    public async Task Another_client_reads_a_result_by_id_and_an_unknown_id_times_out()
    {
        await using var host = await Start();
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(20, 22);
        await sum.GetAsync(RedisHost.Wait);

        await using var other = await Start(withWorker: false, prefix: host.Prefix);
        Assert.Equal(42, await Tasks.Add.WithClient(other.Client).GetResult(sum.Id).GetAsync(RedisHost.Wait));

        var unknown = Tasks.Add.WithClient(other.Client).GetResult("never-enqueued");
        Assert.Equal(TaskState.Pending, await unknown.GetStateAsync());
        Assert.Null(await unknown.GetInfoAsync());
        await Assert.ThrowsAsync<TimeoutException>(() => unknown.GetAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_failure_comes_back_with_the_remote_error_and_is_dead_lettered()
    {
        await using var host = await Start();
        var failing = await Tasks.Fail.WithClient(host.Client).EnqueueAsync("card declined");
        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => failing.GetAsync(RedisHost.Wait));
        Assert.Equal("System.InvalidOperationException", failure.RemoteType);
        Assert.Equal("card declined", failure.Error.Message);

        await Poll.UntilAsync(async () => (await host.Broker.GetDeadLettersAsync("default")).Count == 1, "the failure is dead-lettered");
        var letter = (await host.Broker.GetDeadLettersAsync("default")).Single();
        Assert.Contains("card declined", letter.Reason, StringComparison.Ordinal);
        Assert.Equal(failing.Id, Serialization.TaskEnvelope.Read(letter.Body).Id);
    }

    [Fact]
    public async Task Retries_go_through_the_scheduled_set_with_their_states()
    {
        await using var host = await Start();
        var key = Guid.NewGuid().ToString();
        var once = await Tasks.RetryOnce.WithClient(host.Client).EnqueueAsync(key);

        // Between its runs it waits Retrying, with its error, in the scheduled set.
        await Poll.UntilAsync(async () => await once.GetStateAsync() == TaskState.Retrying, "the task is Retrying");
        Assert.Equal("first call fails", (await once.GetInfoAsync())!.Error!.Message);
        Assert.Equal(1, await host.Broker.Database.SortedSetLengthAsync(host.Broker.Keys.Scheduled("default")));
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
        var broker = producer.Broker;
        foreach (var priority in new[] { 0, 5, 9, 5, 0, 9 })
        {
            await broker.EnqueueAsync("prio", new byte[] { (byte)priority }, priority);
        }

        var leases = await broker.FetchAsync(["prio"], 10, CancellationToken.None);
        Assert.Equal(new byte[] { 9, 9, 5, 5, 0, 0 }, leases.Select(l => l.Body.Span[0]));
        foreach (var lease in leases)
        {
            await lease.AckAsync();
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
    public async Task Garbage_pushed_into_a_queue_is_dead_lettered_and_the_worker_keeps_going()
    {
        await using var host = await Start();
        var proxy = Tasks.Add.WithClient(host.Client);
        var before = await proxy.EnqueueAsync(1, 1);
        var db = host.Broker.Database;
        var ready = host.Broker.Keys.Ready("default", 0);
        byte[] garbage = "GET / HTTP/1.1\r\n"u8.ToArray();
        byte[] truncated = [0x9B, 0x01, 0xA2, 0x69];
        byte[] futureVersion = MessagePackSerializer.Serialize(new object[] { 7, "id", "it.add", "default" });
        await db.ListLeftPushAsync(ready, garbage);
        await db.ListLeftPushAsync(ready, truncated);
        await db.ListLeftPushAsync(ready, futureVersion);
        var after = await proxy.EnqueueAsync(2, 2);

        Assert.Equal(2, await before.GetAsync(RedisHost.Wait));
        Assert.Equal(4, await after.GetAsync(RedisHost.Wait));
        await Poll.UntilAsync(async () => (await host.Broker.GetDeadLettersAsync("default")).Count == 3, "three dead letters");
        var dead = await host.Broker.GetDeadLettersAsync("default");
        Assert.Contains(dead, d => d.Body.Span.SequenceEqual(garbage) && d.Reason.Contains("expected a MessagePack array", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Body.Span.SequenceEqual(truncated) && d.Reason.Contains("malformed envelope", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Body.Span.SequenceEqual(futureVersion) && d.Reason.Contains("unsupported envelope version 7", StringComparison.Ordinal));
        Assert.Equal(6, await (await proxy.EnqueueAsync(3, 3)).GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task Results_carry_the_configured_ttl()
    {
        await using var host = await RedisHost.StartAsync(Endpoint, options: o => o.ResultTtl = TimeSpan.FromMinutes(10));
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        await sum.GetAsync(RedisHost.Wait);
        var ttl = await host.Broker.Database.KeyTimeToLiveAsync(host.Broker.Keys.Result(sum.Id));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task A_stopping_worker_puts_unstarted_and_interrupted_messages_back()
    {
        var worker = await Start(w => { w.Concurrency = 1; w.Prefetch = 4; w.ShutdownTimeout = TimeSpan.FromMilliseconds(300); });
        var keys = worker.Broker.Keys;
        await using var observer = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var db = observer.GetDatabase();
        var workerId = worker.Broker.WorkerId;
        var blocked = await Tasks.Block.WithClient(worker.Client).EnqueueAsync();
        await Poll.UntilAsync(async () => await blocked.GetStateAsync() == TaskState.Started, "the blocking task started");
        for (var i = 0; i < 4; i++)
        {
            await Tasks.Add.WithClient(worker.Client).EnqueueAsync(i, i);
        }

        await worker.DisposeAsync();

        Assert.Equal(0, await db.ListLengthAsync(keys.InFlight("default", workerId)));
        Assert.Equal(5, await db.ListLengthAsync(keys.Ready("default", 0)));
        Assert.Equal(TaskState.Pending, (await new RedisValueReader(db, keys).StateAsync(blocked.Id)));
    }

    [Fact]
    public async Task The_in_flight_messages_of_a_dead_worker_return_and_run()
    {
        await using var producer = await Start(withWorker: false);
        var keys = producer.Broker.Keys;
        var db = producer.Broker.Database;
        var sums = new AsyncResult<int>[3];
        for (var i = 0; i < sums.Length; i++)
        {
            sums[i] = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(i, 10);
        }

        // A worker that fetched them and died: its heartbeat deadline is in the past.
        var leases = await producer.Broker.FetchAsync(["default"], 10, CancellationToken.None);
        Assert.Equal(3, leases.Count);
        await db.SortedSetAddAsync(keys.Workers("default"), producer.Broker.WorkerId, DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds());

        await using var worker = await Start(prefix: producer.Prefix);
        for (var i = 0; i < sums.Length; i++)
        {
            Assert.Equal(i + 10, await sums[i].GetAsync(RedisHost.Wait));
        }

        Assert.Equal(0, await db.ListLengthAsync(keys.InFlight("default", producer.Broker.WorkerId)));
    }

    [Fact]
    public async Task An_in_flight_entry_no_lease_holds_returns_to_its_queue_on_the_second_sweep()
    {
        await using var host = await Start(withWorker: false);
        var broker = host.Broker;
        await broker.EnqueueAsync("sweep", new byte[] { 1 }, 0);
        var held = (await broker.FetchAsync(["sweep"], 1, CancellationToken.None)).Single();

        // An entry fetched by a script whose reply was lost: in flight, held by no lease.
        var inFlight = broker.Keys.InFlight("sweep", broker.WorkerId);
        await broker.Database.ListLeftPushAsync(inFlight, new byte[] { 7, 42 });

        var sweeper = new RedisInFlightSweeper(broker, new RedisTransportOptions(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal(0, await sweeper.SweepAsync(["sweep"]));
        Assert.Equal(1, await sweeper.SweepAsync(["sweep"]));

        Assert.Equal(new byte[] { 42 }, (byte[])(await broker.Database.ListGetByIndexAsync(broker.Keys.Ready("sweep", 7), 0))!);
        Assert.Equal(1, await broker.Database.ListLengthAsync(inFlight)); // the held one stays
        await held.AckAsync();
        Assert.Equal(0, await broker.Database.ListLengthAsync(inFlight));
    }

    [Fact]
    public async Task A_redelivered_task_whose_result_is_final_is_not_run_again()
    {
        await using var producer = await Start(withWorker: false);
        var key = Guid.NewGuid().ToString();
        var record = await Tasks.Record.WithClient(producer.Client).EnqueueAsync(key);

        // Its outcome was stored but the ack was lost.
        await producer.Client.Results.SetAsync(new TaskInfo(record.Id, "it.record", TaskState.Succeeded, 0, DateTimeOffset.UtcNow, null, default));
        await using var worker = await Start(prefix: producer.Prefix);
        await Poll.UntilAsync(async () => await producer.Broker.Database.ListLengthAsync(producer.Broker.Keys.Ready("default", 0)) == 0, "the message is taken");
        await Task.Delay(300);
        Assert.False(WorkerTasks.Calls.ContainsKey(key));
        Assert.Equal(TaskState.Succeeded, await record.GetStateAsync());
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
        Assert.Equal(1200, await producer.Broker.Database.ListLengthAsync(producer.Broker.Keys.Ready("default", 0)));

        // Fetched oldest first, across the several script calls the bulk was split into.
        var leases = await producer.Broker.FetchAsync(["default"], 3, CancellationToken.None);
        Assert.Equal(sums.Take(3).Select(s => s.Id), leases.Select(l => Serialization.TaskEnvelope.Read(l.Body).Id));
        foreach (var lease in leases)
        {
            await lease.DisposeAsync();
        }

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
        var stored = Serialization.TaskEnvelope.Read((byte[])(await producer.Broker.Database.ListGetByIndexAsync(producer.Broker.Keys.Ready("default", 0), 0))!);
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
    public async Task The_state_written_at_enqueue_never_replaces_a_state_that_got_there_first()
    {
        await using var host = await Start(withWorker: false);
        var results = host.Client.Results;
        var now = DateTimeOffset.UtcNow;

        // The worker's Started arrived before the producer's Pending (they travel apart).
        Assert.Null(await results.TryStartAsync(new TaskInfo("a", "it.add", TaskState.Started, 0, now, null, default)));
        await results.SetEnqueuedAsync(new TaskInfo("a", "it.add", TaskState.Pending, 0, now, null, default));
        Assert.Equal(TaskState.Started, (await results.GetAsync("a"))!.State);

        // A cancel got there first.
        Assert.True(await results.CancelAsync("b"));
        await results.SetEnqueuedAsync(new TaskInfo("b", "it.add", TaskState.Pending, 0, now, null, default));
        Assert.Equal(TaskState.Canceled, (await results.GetAsync("b"))!.State);

        // Nothing there: it is written.
        await results.SetEnqueuedAsync(new TaskInfo("c", "it.add", TaskState.Scheduled, 0, now, null, default));
        Assert.Equal(TaskState.Scheduled, (await results.GetAsync("c"))!.State);
    }

    [Fact]
    public async Task A_waiter_whose_notification_was_lost_is_woken_by_the_sweep()
    {
        await using var host = await Start(withWorker: false, redis: r => r.ResultPollInterval = TimeSpan.FromMilliseconds(200));
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(40, 2);
        var waiting = sum.GetAsync(RedisHost.Wait);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        // The final state appears without its notification, as when a reconnect dropped it.
        var record = Serialization.TaskInfoCodec.Write(new TaskInfo(sum.Id, "it.add", TaskState.Succeeded, 0, DateTimeOffset.UtcNow, null, MessagePackSerializer.Serialize(42)));
        await host.Broker.Database.StringSetAsync(host.Broker.Keys.Result(sum.Id), record);
        Assert.Equal(42, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_result_key_holding_garbage_fails_its_waiter_with_the_reason()
    {
        await using var host = await Start(withWorker: false, redis: r => r.ResultPollInterval = TimeSpan.FromMilliseconds(200));
        var db = host.Broker.Database;

        // Garbage already there when the wait begins: the first read says so.
        var before = await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 1);
        await db.StringSetAsync(host.Broker.Keys.Result(before.Id), "not a record");
        var early = await Assert.ThrowsAsync<System.IO.InvalidDataException>(() => before.GetAsync(RedisHost.Wait));
        Assert.Contains("is not a TypedTasks result record", early.Message, StringComparison.Ordinal);

        // Garbage written while it waits, with no notification: the sweep reads it and says so.
        var during = await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 2);
        var waiting = during.GetAsync(RedisHost.Wait);
        await Task.Delay(100);
        await db.StringSetAsync(host.Broker.Keys.Result(during.Id), "not a record either");
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
        var subscriber = host.Broker.Database.Multiplexer.GetSubscriber();
        await subscriber.PublishAsync(host.Broker.Keys.Done, new byte[] { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03 });
        await subscriber.PublishAsync(host.Broker.Keys.Done, new byte[] { 0x00, 0x05, (byte)'a', (byte)'b' });
        await subscriber.PublishAsync(host.Broker.Keys.Done, new byte[] { 0x00, 0x01, (byte)'x', 0x7f, 0xff, 0xff, 0xff, 0x00 });
        await subscriber.PublishAsync(host.Broker.Keys.Done, Array.Empty<byte>());

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

/// <summary>Reads a task's stored state straight from Redis.</summary>
internal sealed class RedisValueReader(IDatabase db, RedisKeys keys)
{
    public async Task<TaskState> StateAsync(string id)
        => Serialization.TaskInfoCodec.Read(id, (byte[])(await db.StringGetAsync(keys.Result(id)))!).State;
}

/// <summary>The core suite on a standalone redis-server.</summary>
public sealed class StandaloneRedisTests(RedisFixture redis) : RedisContractTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

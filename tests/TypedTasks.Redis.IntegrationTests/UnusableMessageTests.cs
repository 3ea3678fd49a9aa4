using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Redis.IntegrationTests.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// Tasks a worker can never run — envelopes that are not envelopes, that hold times no worker can
/// use (a producer in another language writing microseconds, int64 max), or name a task no worker
/// has, and tasks whose stored record cannot be read — each end once, with the reason, and the
/// worker goes on without fetching them again and again.
/// </summary>
public sealed class UnusableMessageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A version 2 envelope of it.add(1, 2) with the times given (Unix ms).</summary>
    private static byte[] Envelope(long enqueuedMs, long? etaMs, long? expiresMs, string task = "it.add")
        => MessagePackSerializer.Serialize(new object?[] { 2, task, enqueuedMs, etaMs, expiresMs, null, new object[] { 1, 2 } });

    [Fact]
    public async Task Garbage_times_out_of_range_and_an_unknown_task_each_end_Failed_once_with_the_reason_and_the_worker_does_not_spin()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var host = await RedisHost.StartAsync(redis.Endpoint);
        var bad = new (byte[] Envelope, string Reason)[]
        {
            ("\x00\x01 not msgpack at all"u8.ToArray(), "not a TypedTasks envelope"),
            (Envelope(long.MaxValue, null, null), "enqueued_at"),
            (Envelope(1_700_000_000_000, 1_700_000_000_000_000, null), "eta"), // microseconds
            (Envelope(1_700_000_000_000, null, long.MaxValue), "expires_at"),
            (Envelope(1_700_000_000_000, null, null, task: "it.no-such-task"), "unknown task 'it.no-such-task' in queue 'default'"),
        };
        var ids = new string[bad.Length];
        for (var i = 0; i < bad.Length; i++)
        {
            ids[i] = await host.Store.EnqueueRawAsync("default", bad[i].Envelope);
        }

        await Poll.UntilAsync(async () => (await host.Store.CountAsync("default")).Failed == bad.Length, "every bad task ends Failed", RedisHost.Wait);
        for (var i = 0; i < bad.Length; i++)
        {
            var info = (await host.Store.GetStoredAsync(ids[i]))!;
            Assert.Equal(TaskState.Failed, info.Info.State);
            Assert.Contains(bad[i].Reason, info.Info.Error!.Message, StringComparison.Ordinal);
            Assert.Equal(1, info.Info.Attempt); // fetched once
            Assert.Equal(bad[i].Envelope, info.Envelope.ToArray()); // kept as sent
        }

        // Over an idle second nothing comes back: the counts stay, and the worker sends only its
        // heartbeats and sweeps (a worker fetching the same task again and again sends thousands).
        await using var observer = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
        var server = observer.GetServer(redis.Endpoint);
        var before = await CommandsAsync(server);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var sent = await CommandsAsync(server) - before;
        output.WriteLine($"{sent} commands in an idle second after {bad.Length} bad tasks ended Failed.");
        Assert.InRange(sent, 0, 100);
        var counts = await host.Store.CountAsync("default");
        Assert.Equal((0L, 0L, 0L, (long)bad.Length), (counts.Pending, counts.Started, counts.Retrying, counts.Failed));

        // The worker still runs tasks.
        Assert.Equal(6, await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(3, 3)).GetAsync(RedisHost.Wait));
        Assert.Equal(bad.Length, (await host.Store.CountAsync("default")).Failed);
    }

    [Fact]
    public async Task Tasks_whose_stored_records_cannot_be_read_do_not_hold_up_the_tasks_behind_them()
    {
        // Input: two tasks at the head of the queue whose records cannot be read, as a tool
        // writing the keys by hand or another program could leave them: one cut to a single byte
        // in its bucket, one moved to its side key, which holds a list (WRONGTYPE). Expected: the
        // worker still runs the task behind them, and does not fail every fetch on their account.
        await using var redis = await RedisServer.StartAsync();
        var prefix = RedisHost.NewPrefix();
        AsyncResult<int> behind;
        await using (var producer = await RedisHost.StartAsync(redis.Endpoint, prefix, withWorker: false))
        {
            var proxy = Tasks.Add.WithClient(producer.Client);
            var cut = (await proxy.EnqueueAsync(1, 1)).Id;
            var wrongType = (await proxy.EnqueueAsync(2, 2)).Id;
            behind = await proxy.EnqueueAsync(3, 3);
            await using var connection = await redis.ConnectAsync();
            var db = connection.GetDatabase();
            await db.HashSetAsync(StoreTestKit.Bucket(prefix, "default", cut), StoreTestKit.Sequence(cut), new byte[] { 0x00 });
            await db.HashSetAsync(StoreTestKit.Bucket(prefix, "default", wrongType), StoreTestKit.Sequence(wrongType), "x");
            await db.ListLeftPushAsync(StoreTestKit.Key(prefix, "default", "x:" + StoreTestKit.Sequence(wrongType)), "a list where a record belongs");
        }

        var logs = new CapturedLogs();
        await using var host = await RedisHost.StartAsync(redis.Endpoint, prefix, services: s => s.AddLogging(b => b.AddProvider(logs)));
        var failures = () => logs.Entries.Where(e => e.Contains("Fetching from the store failed", StringComparison.Ordinal)).ToList();
        try
        {
            Assert.Equal(6, await Tasks.Add.WithClient(host.Client).GetResult(behind.Id).GetAsync(TimeSpan.FromSeconds(15)));
        }
        finally
        {
            output.WriteLine($"{failures().Count} failed fetches; the first: {failures().FirstOrDefault()}");
        }

        Assert.Equal(0, (await host.Store.CountAsync("default")).Pending);
        Assert.True(failures().Count <= 1, string.Join(Environment.NewLine, failures()));
    }

    [Fact]
    public async Task A_record_key_of_another_type_fails_only_its_own_completion_not_the_others_of_its_batch()
    {
        // Completions are batched into one script call; a WRONGTYPE error on one task's key there
        // would fail every completion of the batch, and each would be retried for one bad key.
        await using var redis = await RedisServer.StartAsync();
        await using var host = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var ids = await host.Store.EnqueueManyAsync("default", [new TaskToEnqueue(new byte[] { 1 }, 0), new TaskToEnqueue(new byte[] { 2 }, 0)]);
        var leases = await host.Store.FetchAsync(["default"], 2, CancellationToken.None);
        Assert.Equal(ids, leases.Select(l => l.Id));

        // The second task's record moved to its side key, which holds a list.
        await using var connection = await redis.ConnectAsync();
        var db = connection.GetDatabase();
        var seq = StoreTestKit.Sequence(ids[1]);
        await db.HashSetAsync(StoreTestKit.Bucket(host.Prefix, "default", ids[1]), seq, "x");
        await db.ListLeftPushAsync(StoreTestKit.Key(host.Prefix, "default", "x:" + seq), "a list where a record belongs");

        var good = host.Store.CompleteAsync(leases[0], TaskCompletion.Succeeded(new byte[] { 0x2a })).AsTask();
        var bad = host.Store.CompleteAsync(leases[1], TaskCompletion.Succeeded(new byte[] { 0x2a })).AsTask();
        Assert.True(await good);
        var error = await Assert.ThrowsAsync<System.IO.InvalidDataException>(() => bad);
        Assert.Contains($"Task {ids[1]} cannot be settled", error.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Succeeded, (await host.Store.GetAsync(ids[0]))!.State);
        Assert.Equal(RedisType.List, await db.KeyTypeAsync(StoreTestKit.Key(host.Prefix, "default", "x:" + seq)));
    }

    private static async Task<long> CommandsAsync(IServer server)
    {
        var stats = await server.InfoAsync("stats");
        var line = stats.SelectMany(g => g).Single(p => p.Key == "total_commands_processed");
        return long.Parse(line.Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System;
using System.Linq;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.TestWorker;

using TypedTasks.Testing;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// Messages a worker can never run — envelopes that parse as MessagePack but hold values no worker
/// can use (a producer in another language writing microseconds, int64 max), tasks whose stored
/// state cannot be used — are each dead-lettered once with the reason, and the worker goes on.
/// </summary>
public sealed class UnusableMessageTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static byte[] Envelope(long enqueuedMs, long? etaMs, long? expiresMs)
        => MessagePackSerializer.Serialize(new object?[] { 1, Guid.NewGuid().ToString(), "it.add", "default", 0, 0, enqueuedMs, etaMs, expiresMs, null, new object[] { 1, 2 } });

    [Fact]
    public async Task Times_out_of_range_are_dead_lettered_once_and_the_worker_keeps_going()
    {
        await using var host = await RedisHost.StartAsync(redis.Server.Endpoint);
        var db = host.Broker.Database;
        var ready = host.Broker.Keys.Ready("default", 0);
        var bad = new[]
        {
            Envelope(long.MaxValue, null, null),
            Envelope(1_700_000_000_000, 1_700_000_000_000_000, null), // microseconds
            Envelope(1_700_000_000_000, null, long.MaxValue),
        };
        foreach (var body in bad)
        {
            await db.ListLeftPushAsync(ready, body);
        }

        await Poll.UntilAsync(async () => (await host.Broker.GetDeadLettersAsync("default")).Count == bad.Length, "three dead letters");
        var dead = await host.Broker.GetDeadLettersAsync("default");
        Assert.Contains(dead, d => d.Body.Span.SequenceEqual(bad[0]) && d.Reason.Contains("enqueued_at", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Body.Span.SequenceEqual(bad[1]) && d.Reason.Contains("eta", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Body.Span.SequenceEqual(bad[2]) && d.Reason.Contains("expires_at", StringComparison.Ordinal));
        Assert.Equal(0, await db.ListLengthAsync(ready));

        // Dead-lettered once each, not fetched again and again, and the worker still runs tasks.
        Assert.Equal(6, await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(3, 3)).GetAsync(RedisHost.Wait));
        Assert.Equal(bad.Length, (await host.Broker.GetDeadLettersAsync("default")).Count);
    }

    [Fact]
    public async Task A_task_whose_stored_state_cannot_be_used_is_dead_lettered_once_not_fetched_again_and_again()
    {
        // Before, the start failed, the message went back to the head of its queue and was
        // fetched again at once, for ever: tens of thousands of commands a second.
        var prefix = RedisHost.NewPrefix();
        string garbageId, wrongTypeId;
        await using (var producer = await RedisHost.StartAsync(redis.Server.Endpoint, prefix, withWorker: false))
        {
            var proxy = Tasks.Add.WithClient(producer.Client);
            garbageId = (await proxy.EnqueueAsync(1, 1)).Id;
            wrongTypeId = (await proxy.EnqueueAsync(2, 2)).Id;
            var db = producer.Broker.Database;

            // A record that looks final by its first bytes (array, version 1, state Failed) but is cut short.
            await db.StringSetAsync(producer.Broker.Keys.Result(garbageId), new byte[] { 0x97, 0x01, 0x05, 0xC1 });
            await db.KeyDeleteAsync(producer.Broker.Keys.Result(wrongTypeId));
            await db.ListLeftPushAsync(producer.Broker.Keys.Result(wrongTypeId), "a list where a record belongs");
        }

        await using var host = await RedisHost.StartAsync(redis.Server.Endpoint, prefix);
        await Poll.UntilAsync(async () => (await host.Broker.GetDeadLettersAsync("default")).Count == 2, "two dead letters");
        var dead = await host.Broker.GetDeadLettersAsync("default");
        Assert.Contains(dead, d => d.Reason.Contains($"{garbageId} cannot be started: its stored state cannot be used", StringComparison.Ordinal));
        Assert.Contains(dead, d => d.Reason.Contains($"{wrongTypeId} cannot be started", StringComparison.Ordinal) && d.Reason.Contains("WRONGTYPE", StringComparison.Ordinal));

        // The worker goes on, and the two are not delivered again.
        Assert.Equal(6, await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(3, 3)).GetAsync(RedisHost.Wait));
        Assert.Equal(2, (await host.Broker.GetDeadLettersAsync("default")).Count);
        Assert.Equal(0, await host.Broker.Database.ListLengthAsync(host.Broker.Keys.Ready("default", 0)));
    }

    [Fact]
    public async Task A_result_key_of_another_type_fails_only_its_own_start_not_the_others_of_its_batch()
    {
        // Starts are batched into one script call; a WRONGTYPE error there would fail every task of
        // the batch, and each would be set aside for one bad key.
        await using var host = await RedisHost.StartAsync(redis.Server.Endpoint, withWorker: false);
        var db = host.Broker.Database;
        RedisKey good = host.Broker.Keys.Result("good-task"), bad = host.Broker.Keys.Result("bad-task");
        await db.ListLeftPushAsync(bad, "a list where a record belongs");
        byte[] started = [0x97, 0x01, 0x02];

        var answers = (RedisResult[])(await RedisScript.StartTasks.RunAsync(db, [good, bad], [86_400_000, started, started]))!;

        Assert.True(answers[0].IsNull);
        Assert.Equal(-1, (long)answers[1]);
        Assert.Equal(started, (byte[])(await db.StringGetAsync(good))!);
        Assert.Equal(RedisType.List, await db.KeyTypeAsync(bad));
    }
}

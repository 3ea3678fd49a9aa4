using System;
using System.Linq;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.TestWorker;

using TypedTasks.Testing;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// Envelopes that parse as MessagePack but hold values no worker can use (a producer in another
/// language writing microseconds, int64 max): each is dead-lettered with the field named, once,
/// and the worker goes on.
/// </summary>
public sealed class BadEnvelopeTests(RedisFixture redis) : IClassFixture<RedisFixture>
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
}

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.IntegrationTests.Store;
using TypedTasks.Testing;
using TypedTasks.TestWorker;
using TypedTasks.Transport;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// What a producer is told when Redis refuses or does not answer: the cause, the setting to check,
/// and, when an enqueue may or may not have happened, the task id to retry with.
/// </summary>
public sealed class RedisRefusalTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task An_enqueue_refused_for_memory_says_Redis_is_out_of_memory_and_names_the_settings()
    {
        await using var redis = await RedisServer.StartAsync(false, null, "--maxmemory", "1", "--maxmemory-policy", "noeviction");
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);

        var error = await Assert.ThrowsAsync<TransportException>(() => Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2));
        Assert.StartsWith("Redis is out of memory and refused a write (OOM)", error.Message, StringComparison.Ordinal);
        Assert.Contains("maxmemory and maxmemory-policy", error.Message, StringComparison.Ordinal);
        Assert.Contains("TypedTasks:ResultTtl", error.Message, StringComparison.Ordinal);
        output.WriteLine(error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(error.OutcomeUnknown);
    }

    [Fact]
    public async Task A_large_batch_refused_for_memory_leaves_nothing_of_itself_behind()
    {
        // Input: 5,000 tasks in one EnqueueManyAsync to a queue that already holds 3, once Redis
        // (noeviction) is over its maxmemory. Error: TransportException naming Redis out of memory
        // and maxmemory; not one of the 5,000 is stored, and the queue's counter did not move.
        await using var redis = await RedisServer.StartAsync(false, null, "--maxmemory-policy", "noeviction");
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var proxy = Tasks.Add.WithClient(producer.Client);
        var first = await proxy.EnqueueManyAsync([(1, 1), (2, 2), (3, 3)]);
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
        var server = admin.GetServer(redis.Endpoint);
        var keysBefore = await KeysAsync(server, producer.Prefix);
        var counterBefore = await admin.GetDatabase().HashGetAsync(StoreTestKit.Key(producer.Prefix, "default", "seq"), "next");

        await server.ConfigSetAsync("maxmemory", "1");
        var error = await Assert.ThrowsAsync<TransportException>(() => proxy.EnqueueManyAsync(Enumerable.Range(0, 5000).Select(i => (i, 1))));
        output.WriteLine(error.Message);
        Assert.StartsWith("Redis is out of memory and refused a write (OOM)", error.Message, StringComparison.Ordinal);
        Assert.Contains("maxmemory", error.Message, StringComparison.Ordinal);
        Assert.False(error.OutcomeUnknown);

        Assert.Equal(3, (await producer.Store.CountAsync("default")).Pending);
        Assert.Equal(keysBefore, await KeysAsync(server, producer.Prefix));
        Assert.Equal(counterBefore, await admin.GetDatabase().HashGetAsync(StoreTestKit.Key(producer.Prefix, "default", "seq"), "next"));

        // With memory again, the same batch goes in whole, right after the first three.
        await server.ConfigSetAsync("maxmemory", "0");
        var again = await proxy.EnqueueManyAsync(Enumerable.Range(0, 5000).Select(i => (i, 1)));
        Assert.Equal(5003, (await producer.Store.CountAsync("default")).Pending);
        Assert.Equal(StoreTestKit.Sequence(first[2].Id) + 1, StoreTestKit.Sequence(again[0].Id));
        await using var worker = await RedisHost.StartAsync(redis.Endpoint, producer.Prefix, w => w.Concurrency = 32);
        Assert.Equal(Enumerable.Range(1, 5000), await Task.WhenAll(again.Select(a => a.GetAsync(RedisHost.Wait))));
        Assert.Equal(new[] { 2, 4, 6 }, await Task.WhenAll(first.Select(a => a.GetAsync(RedisHost.Wait))));
    }

    [Fact]
    public async Task An_enqueue_unanswered_while_Redis_is_paused_says_the_outcome_is_unknown_and_a_retry_with_its_task_id_runs_it_once()
    {
        // Input: an enqueue with a chosen id, and one without, sent while redis-server is
        // SIGSTOPped past the client's 1 s timeout. Error: TransportException with OutcomeUnknown,
        // carrying the chosen id; the retry with that id after SIGCONT stores nothing more.
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync($"{redis.Endpoint},asyncTimeout=1000,syncTimeout=1000", withWorker: false);
        Assert.Equal(0, (await producer.Store.CountAsync("default")).Pending);
        var key = Guid.NewGuid().ToString("N");
        var chosen = "pay-" + key;
        var record = Tasks.Record.WithClient(producer.Client);

        TransportException error, anonymous;
        Signal(redis, "STOP");
        try
        {
            var withId = Assert.ThrowsAsync<TransportException>(() => record.With(new EnqueueOptions { TaskId = chosen }).EnqueueAsync(key).WaitAsync(TimeSpan.FromSeconds(30)));
            var withoutId = Assert.ThrowsAsync<TransportException>(() => Tasks.Add.WithClient(producer.Client).EnqueueAsync(2, 3).WaitAsync(TimeSpan.FromSeconds(30)));
            (error, anonymous) = (await withId, await withoutId);
        }
        finally
        {
            Signal(redis, "CONT");
        }

        output.WriteLine(error.Message);
        Assert.True(error.OutcomeUnknown, error.Message);
        Assert.Equal(chosen, error.TaskId);
        Assert.Contains($"is unknown: it may have been enqueued, under the id you chose ({chosen})", error.Message, StringComparison.Ordinal);
        Assert.Contains("Enqueue it again with the same EnqueueOptions.TaskId", error.Message, StringComparison.Ordinal);
        Assert.Contains(redis.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("could not be reached", error.Message, StringComparison.Ordinal);
        Assert.True(anonymous.OutcomeUnknown, anonymous.Message);
        Assert.Null(anonymous.TaskId);
        Assert.Contains("choose the task's id with EnqueueOptions.TaskId", anonymous.Message, StringComparison.Ordinal);

        // Redis carried both out once it ran again; the retry under the chosen id sends nothing more.
        await Poll.UntilAsync(async () => (await producer.Store.CountAsync("default")).Pending == 2, "the paused Redis ran the enqueues after SIGCONT");
        var retried = await record.With(new EnqueueOptions { TaskId = chosen }).EnqueueAsync(key);
        Assert.Equal(chosen + "@default", retried.Id);
        Assert.Equal(2, (await producer.Store.CountAsync("default")).Pending);

        await using var worker = await RedisHost.StartAsync(redis.Endpoint, producer.Prefix);
        await retried.GetAsync(RedisHost.Wait);
        await Poll.UntilAsync(async () => (await worker.Store.CountAsync("default")).Succeeded == 2, "both tasks ran");
        await Task.Delay(300);
        Assert.Equal(1, WorkerTasks.Calls[key]);
        Assert.Equal((2L, 0L), ((await worker.Store.CountAsync("default")).Succeeded, (await worker.Store.CountAsync("default")).Pending));
    }

    [Fact]
    public async Task A_message_over_the_size_limit_sends_nothing_to_Redis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false, options: o => o.MaxMessageSize = 2048);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Tasks.FailFirst.WithClient(producer.Client).EnqueueAsync(new string('k', 4000)));
        Assert.Contains("more than the limit of 2,048 bytes (TypedTasks:MaxMessageSize", error.Message, StringComparison.Ordinal);
        var keys = Enumerable.Range(0, 20).Select(i => i == 19 ? new string('k', 4000) : "k" + i);
        await Assert.ThrowsAsync<ArgumentException>(() => Tasks.FailFirst.WithClient(producer.Client).EnqueueManyAsync(keys));

        // Nothing under the prefix: no message, no Pending state.
        await using var connection = await redis.ConnectAsync();
        var server = connection.GetServer(redis.Endpoint);
        Assert.Empty(await server.KeysAsync(pattern: producer.Prefix + ":*").ToListAsync());
    }

    private static async Task<string[]> KeysAsync(IServer server, string prefix)
        => [.. (await server.KeysAsync(pattern: prefix + ":*").ToListAsync()).Select(k => (string)k!).Order(StringComparer.Ordinal)];

    private static void Signal(RedisServer redis, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", redis.Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        Assert.True(kill.WaitForExit(10_000), $"kill -{signal} did not finish");
        Assert.Equal(0, kill.ExitCode);
    }
}

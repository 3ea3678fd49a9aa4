using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
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

        var many = await Assert.ThrowsAsync<TransportException>(() => Tasks.Add.WithClient(producer.Client).EnqueueManyAsync([(1, 2), (3, 4)]));
        Assert.Contains("is out of memory", many.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_enqueue_unanswered_while_Redis_is_paused_says_the_outcome_is_unknown_and_carries_the_task_id()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync($"{redis.Endpoint},asyncTimeout=1000,syncTimeout=1000", withWorker: false);
        Assert.Equal(0, await producer.Broker.GetQueueLengthAsync("default"));

        TransportException error;
        Signal(redis, "STOP");
        try
        {
            error = await Assert.ThrowsAsync<TransportException>(() => Tasks.Add.WithClient(producer.Client).EnqueueAsync(2, 3).WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            Signal(redis, "CONT");
        }

        output.WriteLine(error.Message);
        Assert.True(error.OutcomeUnknown, error.Message);
        Assert.NotNull(error.TaskId);
        Assert.Contains("is unknown: it may have been enqueued, under id " + error.TaskId, error.Message, StringComparison.Ordinal);
        Assert.Contains($"EnqueueOptions.TaskId = \"{error.TaskId}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(redis.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("could not be reached", error.Message, StringComparison.Ordinal);

        // Redis carried it out once it ran again: the message is in the queue, under the id given.
        await Poll.UntilAsync(async () => await producer.Broker.GetQueueLengthAsync("default") == 1, "the paused Redis ran the enqueue after SIGCONT");
        var retried = await Tasks.Add.WithClient(producer.Client).With(new EnqueueOptions { TaskId = error.TaskId }).EnqueueAsync(2, 3);
        Assert.Equal(error.TaskId, retried.Id);
        await using var worker = await RedisHost.StartAsync(redis.Endpoint, producer.Prefix);
        Assert.Equal(5, await Tasks.Add.WithClient(producer.Client).GetResult(error.TaskId!).GetAsync(RedisHost.Wait));
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

    private static void Signal(RedisServer redis, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", redis.Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        Assert.True(kill.WaitForExit(10_000), $"kill -{signal} did not finish");
        Assert.Equal(0, kill.ExitCode);
    }
}

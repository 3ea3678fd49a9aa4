using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTasks.InMemory;
using TypedTasks.Testing;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

public static class AttemptTasks
{
    public static ConcurrentDictionary<string, int> Calls { get; } = new();

    /// <summary>Fails its first run; the retry comes 1 to 2 s later, time enough to see it Retrying.</summary>
    [Task("tests.attempt.fail-once", MaxRetries = 1, RetryDelay = "00:00:02")]
    public static int FailOnce(string key)
        => Calls.AddOrUpdate(key, 1, (_, n) => n + 1) == 1 ? throw new InvalidOperationException("the first run fails") : 2;

    [Task("tests.attempt.always-fails", MaxRetries = 1, RetryDelay = "00:00:00.010")]
    public static int FailEveryRun(string key) => throw new InvalidOperationException("fails on every run: " + key);
}

/// <summary>One convention for the attempt a user sees: 1 for the first run, 0 before any run.</summary>
public sealed class AttemptTests
{
    [Fact]
    public async Task TaskInfo_Attempt_is_0_before_any_run_and_the_1_based_number_of_the_run_its_state_belongs_to()
    {
        var store = new InMemoryTaskStore();
        await using (var producer = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false))
        {
            var pending = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2);
            var scheduled = await Tasks.Add.WithClient(producer.Client).With(new EnqueueOptions { Delay = TimeSpan.FromHours(1) }).EnqueueAsync(1, 2);
            var canceled = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(3, 4);
            Assert.True(await canceled.CancelAsync());

            Assert.Equal((TaskState.Pending, 0), await StateAndAttempt(pending));
            Assert.Equal((TaskState.Scheduled, 0), await StateAndAttempt(scheduled));
            Assert.Equal((TaskState.Canceled, 0), await StateAndAttempt(canceled));
        }

        await using var worker = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var first = await Tasks.Add.WithClient(worker.Client).EnqueueAsync(20, 22);
        Assert.Equal(42, await first.GetAsync(TestHost.Wait));
        Assert.Equal((TaskState.Succeeded, 1), await StateAndAttempt(first));

        // Started on its first run, then canceled while it runs: the attempt of the stored state stays.
        var key = Guid.NewGuid().ToString();
        var blocked = await Tasks.Block.WithClient(worker.Client).EnqueueAsync(key);
        await Poll.UntilAsync(() => Task.FromResult(FaultTasks.Started.ContainsKey(key)), "the blocking task started", TestHost.Wait);
        Assert.Equal((TaskState.Started, 1), await StateAndAttempt(blocked));
        Assert.True(await blocked.CancelAsync());
        Assert.Equal((TaskState.Canceled, 1), await StateAndAttempt(blocked));

        // Retrying after the first run, with its error; Succeeded on the second.
        var flaky = await Tasks.FailOnce.WithClient(worker.Client).EnqueueAsync(Guid.NewGuid().ToString());
        await Poll.UntilAsync(async () => await flaky.GetStateAsync() == TaskState.Retrying, "the task is Retrying", TestHost.Wait, TimeSpan.FromMilliseconds(10));
        Assert.Equal((TaskState.Retrying, 1), await StateAndAttempt(flaky));
        Assert.Equal("the first run fails", (await flaky.GetInfoAsync())!.Error!.Message);
        Assert.Equal(2, await flaky.GetAsync(TestHost.Wait));
        Assert.Equal((TaskState.Succeeded, 2), await StateAndAttempt(flaky));
    }

    [Fact]
    public async Task Logs_and_the_dead_letter_reason_number_attempts_as_TaskInfo_does()
    {
        var logs = new CapturedLogs();
        await using var host = await TestHost.StartAsync(services: s => s.AddSingleton<ILoggerProvider>(logs));
        var key = Guid.NewGuid().ToString();
        var result = await Tasks.FailEveryRun.WithClient(host.Client).EnqueueAsync(key);

        await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(TestHost.Wait));
        Assert.Equal(2, (await result.GetInfoAsync())!.Attempt);
        Assert.Single(logs.Matching(result.Id, "failed on attempt 1;", "retrying"));
        Assert.Single(logs.Matching(result.Id, "failed for good on attempt 2"));
        var dead = Assert.Single(await host.Client.Store.FailedAsync("default"), d => d.Id == result.Id);
        Assert.Equal(2, dead.Attempt);
        Assert.Contains(key, dead.Error!.Message, StringComparison.Ordinal);
    }

    private static async Task<(TaskState, int)> StateAndAttempt(AsyncResult result)
    {
        var info = await result.GetInfoAsync();
        Assert.NotNull(info);
        return (info.State, info.Attempt);
    }
}

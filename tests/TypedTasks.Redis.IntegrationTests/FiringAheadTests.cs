using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.Testing;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>A run fetched from Redis before its fire time is held by the worker until then, on the worker's clock.</summary>
public sealed class FiringAheadTests
{
    // Real time for what the worker does of its own, not for the fake clock to reach.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_run_fetched_before_its_fire_time_is_held_started_and_runs_at_it()
    {
        // Input: a worker on Redis with a fake clock that stands, a run of it.record sent with a
        // fire time (ScheduledFor) 30 ms ahead of that clock. Expected: the run is fetched (Started
        // in Redis) and does not run while the clock stands, nor a millisecond before the fire
        // time; it runs once the clock reaches it, and succeeds.
        await using var redis = await RedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await RedisHost.StartAsync(redis.Endpoint, worker: w => w.Concurrency = 2, services: s => s.AddSingleton<TimeProvider>(clock));
        var key = Guid.NewGuid().ToString("N");
        var id = await host.Client.SendCallAsync(Tasks.Record.Call(key), new EnqueueOptions(), new CallMarks(ScheduledFor: clock.GetUtcNow() + TimeSpan.FromMilliseconds(30)), CancellationToken.None);

        await Poll.UntilAsync(async () => (await host.Store.GetAsync(id))?.State == TaskState.Started, "the run is fetched", RedisHost.Wait);
        await Task.Delay(Settle);
        Assert.False(WorkerTasks.Calls.ContainsKey(key), "The run started before its fire time.");

        clock.Advance(TimeSpan.FromMilliseconds(29));
        await Task.Delay(Settle);
        Assert.False(WorkerTasks.Calls.ContainsKey(key), "The run started a millisecond before its fire time.");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await Poll.UntilAsync(async () => (await host.Store.GetAsync(id))?.State == TaskState.Succeeded, "the run ends at its fire time", RedisHost.Wait);
        Assert.Equal(1, WorkerTasks.Calls[key]);
    }
}

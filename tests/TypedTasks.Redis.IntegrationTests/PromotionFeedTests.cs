using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Worker;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// A worker's promotion of due tasks on Redis sleeps until what it hears, not a second at a time:
/// its clock is a fake one that moves only when the test moves it.
/// </summary>
public sealed class PromotionFeedTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_task_scheduled_by_another_process_and_due_on_the_worker_clock_is_promoted_with_no_time_passing_on_that_clock()
    {
        // Input: a worker's promotion loop on "p", its clock an hour ahead and never moved, its
        // first look done; then another process's store enqueues a task due in a minute by its
        // own clock (so already due by the worker's, and Scheduled by the other's). Expected: the task becomes Pending within
        // the bound, though the worker never reaches the end of a sleep (a second when the store
        // heard nothing, a minute when it does): the announcement of its due time woke it.
        await using var server = await RedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var watching = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        await using var store = new RedisTaskStore(watching, new RedisTransportOptions { KeyPrefix = "pf" }, time: clock);
        await using var other = await RedisTaskStore.ConnectAsync(server.Endpoint, new RedisTransportOptions { KeyPrefix = "pf" });
        using var stop = new CancellationTokenSource();
        var loop = new Scheduler(store, ["p"], new StoreOutage(NullLogger.Instance, clock), clock, NullLogger.Instance).RunAsync(stop.Token);
        await Poll.UntilAsync(() => Task.FromResult(store.NextPromotionLook(["p"]) > clock.GetUtcNow()), "the loop's first look at \"p\"", Bound);

        var id = await other.EnqueueAsync("p", New(Small(), due: DateTimeOffset.UtcNow.AddMinutes(1)));
        await Poll.UntilAsync(async () => (await other.GetAsync(id))!.State == TaskState.Pending, "the scheduled task promoted by the worker", Bound);

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task The_next_promotion_look_is_now_for_a_queue_never_looked_at_and_a_safety_look_interval_after_a_look()
    {
        // Input: a store with a safety look interval of 2 minutes on a fake clock; "a" never
        // looked at, then looked at by a promotion call. Expected: the next look is now before
        // the call, and 2 minutes after the call's time once made.
        await using var server = await RedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "nl", SafetyLookInterval = TimeSpan.FromMinutes(2) }, time: clock);
        Assert.True(store.NextPromotionLook(["a"]) <= clock.GetUtcNow());

        var at = clock.GetUtcNow();
        Assert.Null(await store.PromoteDueAsync(["a"]));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()) + TimeSpan.FromMinutes(2), store.NextPromotionLook(["a"]));
    }
}

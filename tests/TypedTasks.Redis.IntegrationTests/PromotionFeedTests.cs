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
        var loop = await StartLoopAsync(store, clock, stop.Token);

        var id = await other.EnqueueAsync("p", New(Small(), due: DateTimeOffset.UtcNow.AddMinutes(1)));
        await Poll.UntilAsync(async () => (await other.GetAsync(id))!.State == TaskState.Pending, "the scheduled task promoted by the worker", Bound);

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_safety_look_interval_longer_than_a_timer_can_wait_leaves_the_promotion_running()
    {
        // Input: a worker's promotion loop on "p" whose store has a safety look interval of 60
        // days (valid: positive), its first look done; then another process enqueues a task
        // due in a second. Expected: it becomes Pending within the bound (its announcement ends
        // the loop's sleep). A sleep until the safety look, 60 days, is longer than a timer
        // takes (about 49.7 days): the loop must not end on it.
        await using var server = await RedisServer.StartAsync();
        await using var store = await RedisTaskStore.ConnectAsync(server.Endpoint, new RedisTransportOptions { KeyPrefix = "ls", SafetyLookInterval = TimeSpan.FromDays(60) });
        await using var other = await RedisTaskStore.ConnectAsync(server.Endpoint, new RedisTransportOptions { KeyPrefix = "ls" });
        using var stop = new CancellationTokenSource();
        var loop = await StartLoopAsync(store, TimeProvider.System, stop.Token);
        await Task.Delay(200); // the loop has gone to sleep after its round

        var id = await other.EnqueueAsync("p", New(Small(), due: DateTimeOffset.UtcNow.AddSeconds(1)));
        await Poll.UntilAsync(async () => (await other.GetAsync(id))!.State == TaskState.Pending, "the scheduled task promoted by the worker", Bound);

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_due_time_heard_while_a_promotion_call_is_on_its_way_back_is_not_slept_through()
    {
        // Input: a worker's promotion loop on "p" (system clock, safety look a minute) whose
        // store's replies pass through a proxy; another process enqueues A, due in 1.5 s. Once A
        // is about to be due the replies to the worker are held, until A is Pending (its promote
        // call ran and found nothing else due); then the other process enqueues B, due in 2 s,
        // whose announcement reaches the worker (its subscription is not held) before that call's
        // answer does; then the replies go on. Expected: B is promoted within a few seconds of
        // its due time, as it would be had the announcement come a moment later; not at the
        // safety look, a minute on (the due time heard during the call was kept by the store but
        // left out of the call's answer, and did not wake the loop, being later than the due
        // time the call was made for).
        await using var server = await RedisServer.StartAsync();
        await using var proxy = ReplyHoldingProxy.Start(server.Port);
        var options = new RedisTransportOptions { KeyPrefix = "pc" };
        await using var watching = await ConnectionMultiplexer.ConnectAsync(proxy.Endpoint);
        await using var store = new RedisTaskStore(watching, options);
        await using var other = await RedisTaskStore.ConnectAsync(server.Endpoint, new RedisTransportOptions { KeyPrefix = "pc" });
        using var stop = new CancellationTokenSource();
        var loop = await StartLoopAsync(store, TimeProvider.System, stop.Token);

        // The worker's subscriber connection delivers B's announcement to this handler too, in turn with the store's.
        var heardB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bDue = DateTimeOffset.UtcNow.AddSeconds(60).ToUnixTimeMilliseconds();
        await watching.GetSubscriber().SubscribeAsync(RedisChannel.Literal("pc:store:wake"), (_, message) =>
        {
            if (((string?)message)?.StartsWith("p@", StringComparison.Ordinal) == true && long.Parse(((string)message!)[2..], System.Globalization.CultureInfo.InvariantCulture) >= Volatile.Read(ref bDue))
            {
                heardB.TrySetResult();
            }
        });

        var a = await other.EnqueueAsync("p", New(Small(), due: DateTimeOffset.UtcNow.AddSeconds(1.5)));
        await Task.Delay(500); // the worker heard A's due time, and sleeps until it
        proxy.Hold();
        await Poll.UntilAsync(async () => (await other.GetAsync(a))!.State == TaskState.Pending, "A promoted by the worker's call", Bound);

        var due = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds());
        Volatile.Write(ref bDue, due.ToUnixTimeMilliseconds());
        var b = await other.EnqueueAsync("p", New(Small(2), due: due));
        await heardB.Task.WaitAsync(Bound);
        await Task.Delay(200); // the store's handler of the same message has run
        proxy.Release();

        await Poll.UntilAsync(async () => (await other.GetAsync(b))!.State == TaskState.Pending, "B promoted soon after its due time", due - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5));

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

    /// <summary>Starts a worker's promotion loop on "p" over <paramref name="store"/>, on <paramref name="clock"/>, and waits for its first look.</summary>
    private static async Task<Task> StartLoopAsync(RedisTaskStore store, TimeProvider clock, CancellationToken stop)
    {
        var loop = new Scheduler(store, ["p"], new StoreOutage(NullLogger.Instance, clock), clock, NullLogger.Instance).RunAsync(stop);
        await Poll.UntilAsync(() => Task.FromResult(store.NextPromotionLook(["p"]) > clock.GetUtcNow()), "the loop's first look at \"p\"", Bound);
        return loop;
    }
}

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Scheduling;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Testing.StoreConformance;
using TypedTasks.Worker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// A worker's firing of schedules on Redis hears the changes other processes make to them, so
/// that with no fire time coming it reads them when told and at its safety look, not once a
/// second. Each worker runs on a fake clock that moves only when the test moves it: whatever it
/// does on its own comes from what it heard.
/// </summary>
public sealed class ScheduleFeedTests
{
    private const string Queue = "feed";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_trigger_and_a_new_due_schedule_made_by_another_process_are_fired_with_no_time_passing_on_the_worker()
    {
        // Input: schedule "yearly" (once a year) with a trigger waiting, made by another process's
        // store; a worker's firing loop on a fake clock that never moves fires that trigger in
        // its first round. Then the other process triggers "yearly" again, and then stores
        // "now", due at the worker's present time. Expected: both are enqueued within the bound,
        // though the worker's clock never reaches the end of a sleep (a second when the store
        // announced nothing, a minute when it does): the announcements woke it.
        await using var setup = await SetupAsync(TimeSpan.FromMinutes(1));
        await setup.Schedules.UpsertAsync("yearly", setup.Call, "@yearly");
        Assert.True(await setup.Schedules.TriggerAsync("yearly"));
        using var stop = new CancellationTokenSource();
        var loop = setup.Scheduler.RunAsync(stop.Token);

        await Poll.UntilAsync(async () => (await setup.Other.GetScheduleAsync("yearly"))?.LastTaskId is not null, "the first trigger fired by the worker's first round", Bound);
        var first = (await setup.Other.GetScheduleAsync("yearly"))!.LastTaskId;
        await Task.Delay(50); // a request time of its own for the second trigger (milliseconds)
        Assert.True(await setup.Schedules.TriggerAsync("yearly"));
        await Poll.UntilAsync(async () => (await setup.Other.GetScheduleAsync("yearly"))?.LastTaskId is { } last && last != first, "the second trigger fired with no time passing on the worker", Bound);

        var now = DateTimeOffset.FromUnixTimeMilliseconds(setup.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        await setup.Other.UpsertScheduleAsync("now", Yearly(), now);
        await Poll.UntilAsync(async () => (await Firers.FiredAsync(setup.Other, Queue)).Any(f => f.ScheduledFor == now), "the fire of the schedule stored due at the worker's present time", Bound);

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task An_idle_worker_reads_the_schedules_once_then_not_again_until_its_safety_look()
    {
        // Input: no schedules; a worker's firing loop on a fake clock, with a safety look interval
        // of 10 s; the clock moved a second at a time for 9 s, then 2 s more, with Redis logging
        // every command. Expected: the reads of the first round (two: before and after it
        // stores the schedules of its [Periodic] tasks, none here), none in those 9 s (one a
        // second when the store announces nothing), and one more once the safety look has come.
        await using var setup = await SetupAsync(TimeSpan.FromSeconds(10));
        var server = setup.Admin.GetServer(setup.Redis.Endpoint);
        await server.SlowlogResetAsync();
        using var stop = new CancellationTokenSource();
        var loop = setup.Scheduler.RunAsync(stop.Token);

        await Poll.UntilAsync(async () => await ReadsAsync(setup) == 2, "the first round's reads of the schedules", Bound);
        for (var i = 0; i < 9; i++)
        {
            setup.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(100); // a round woken by this second would read now
        }

        Assert.Equal(2, await ReadsAsync(setup));
        setup.Clock.Advance(TimeSpan.FromSeconds(2));
        await Poll.UntilAsync(async () => await ReadsAsync(setup) == 3, "the safety look's read of the schedules", Bound);

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_safety_look_interval_longer_than_a_timer_can_wait_leaves_the_firing_of_schedules_running()
    {
        // Input: a worker's firing loop whose store has a safety look interval of 60 days (valid:
        // positive), no schedules; once its first round has read them, another process stores a
        // schedule with a trigger waiting. Expected: the trigger is fired within the bound (the
        // announcement ends the loop's sleep). A sleep of 60 days is longer than a timer takes
        // (about 49.7 days): the loop must not end on it.
        await using var setup = await SetupAsync(TimeSpan.FromDays(60));
        using var stop = new CancellationTokenSource();
        var loop = setup.Scheduler.RunAsync(stop.Token);
        await Poll.UntilAsync(async () => await ReadsAsync(setup) == 2, "the first round's reads of the schedules", Bound);
        await Task.Delay(200); // the loop has gone to sleep after its round

        await setup.Schedules.UpsertAsync("yearly", setup.Call, "@yearly");
        Assert.True(await setup.Schedules.TriggerAsync("yearly"));
        await Poll.UntilAsync(async () => (await setup.Other.GetScheduleAsync("yearly"))?.LastTaskId is not null, "the trigger fired by the worker", Bound);

        await stop.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_schedule_change_refused_its_announcement_fails_and_changes_nothing()
    {
        // Input: schedule "s" (yearly) stored by another process; a store connected as an ACL
        // user allowed every key and command but no channel (a tool's user, say) pauses "s",
        // triggers it, stores it with another definition, and removes it. Expected: each call
        // fails with Redis's permission error (the announcement is refused: "can't publish to
        // the channel" in a script, NOPERM for the removal's PUBLISH), and "s" is as it was:
        // there, not paused, no trigger waiting, the same definition and generation. A call that
        // fails leaves no change behind that its caller was told did not happen.
        await using var setup = await SetupAsync(TimeSpan.FromMinutes(1));
        var at = DateTimeOffset.UtcNow.AddDays(1);
        var before = await setup.Other.UpsertScheduleAsync("s", Yearly(), at);
        var user = "u" + setup.Prefix;
        await setup.Admin.GetServer(setup.Redis.Endpoint).ExecuteAsync("ACL", "SETUSER", user, "on", ">pw", "~*", "+@all", "resetchannels");
        var config = ConfigurationOptions.Parse(setup.Redis.Endpoint);
        config.User = user;
        config.Password = "pw";
        config.ConfigurationChannel = string.Empty;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(config);
        await using var tool = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = setup.Prefix });

        var refusals = new[]
        {
            await Assert.ThrowsAnyAsync<Exception>(async () => await tool.SetPausedAsync("s", true, null)),
            await Assert.ThrowsAnyAsync<Exception>(async () => await tool.RequestTriggerAsync("s", at)),
            await Assert.ThrowsAnyAsync<Exception>(async () => await tool.UpsertScheduleAsync("s", Yearly().Replace("@yearly", "@daily", StringComparison.Ordinal), at)),
        };

        Assert.All(refusals, r => Assert.Contains("can't publish to the channel", r.Message, StringComparison.Ordinal));
        var removal = await Assert.ThrowsAnyAsync<Exception>(async () => await tool.RemoveScheduleAsync("s"));
        Assert.Contains("NOPERM", removal.Message, StringComparison.Ordinal);
        var after = (await setup.Other.GetScheduleAsync("s"))!;
        Assert.Equal((false, (DateTimeOffset?)null, before.Definition, before.Generation), (after.Paused, after.TriggerRequestedAt, after.Definition, after.Generation));
    }

    [Fact]
    public async Task The_schedule_watch_is_called_for_an_upsert_that_changes_a_pause_a_resume_a_trigger_and_a_remove_and_not_for_an_advance()
    {
        // Input: a watch on one store; another store upserts a schedule, upserts it unchanged,
        // pauses, resumes, triggers it, completes the trigger, advances it, then removes it.
        // Expected: the watch counts exactly one call for each of the upsert that stored it, the
        // pause, the resume, the trigger and the remove (5), none for the unchanged upsert, the
        // completed trigger or the advance; after its disposal a change calls it no more.
        await using var setup = await SetupAsync(TimeSpan.FromMinutes(1));
        var calls = 0;
        var watch = await setup.Store.WatchScheduleChangesAsync(() => Interlocked.Increment(ref calls));
        var definition = Yearly();
        var at = DateTimeOffset.UtcNow.AddDays(1);
        var other = setup.Other;

        var stored = await other.UpsertScheduleAsync("s", definition, at);
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 1), "the call for the upsert", Bound);
        await other.UpsertScheduleAsync("s", definition, at);
        Assert.True(await other.SetPausedAsync("s", true, null));
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 2), "the call for the pause", Bound);
        Assert.True(await other.SetPausedAsync("s", false, at));
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 3), "the call for the resume", Bound);
        Assert.True(await other.RequestTriggerAsync("s", at));
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 4), "the call for the trigger", Bound);
        Assert.True(await other.CompleteTriggerAsync("s", at, "t1"));
        Assert.True(await other.AdvanceAsync("s", stored.Generation, at, at.AddYears(1), at, "t2"));
        Assert.True(await other.RemoveScheduleAsync("s"));
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref calls) >= 5), "the call for the remove", Bound);

        // Messages on one channel arrive in order: the remove's came after those of the others.
        Assert.Equal(5, Volatile.Read(ref calls));
        await watch.DisposeAsync();
        await other.UpsertScheduleAsync("s", definition, at);
        await setup.Store.UpsertScheduleAsync("marker", definition, at); // heard by the store after the one before
        await Task.Delay(200);
        Assert.Equal(5, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task After_the_subscription_is_killed_the_schedule_and_due_time_watches_are_called_though_nothing_changed()
    {
        // Input: a schedule watch and a due time watch on one store, nothing changed; its
        // subscriber connection killed (CLIENT KILL TYPE pubsub). Expected: both are called once
        // it reconnects, since announcements may have been lost meanwhile; none before the kill.
        await using var setup = await SetupAsync(TimeSpan.FromMinutes(1));
        var changed = 0;
        var heard = 0;
        await using var schedules = await setup.Store.WatchScheduleChangesAsync(() => Interlocked.Increment(ref changed));
        await using var due = await setup.Store.WatchDueTimesAsync(() => Interlocked.Increment(ref heard));
        await Task.Delay(200);
        Assert.Equal((0, 0), (Volatile.Read(ref changed), Volatile.Read(ref heard)));

        await setup.Admin.GetServer(setup.Redis.Endpoint).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref changed) > 0 && Volatile.Read(ref heard) > 0), "both watches called after the reconnect", Bound);
    }

    /// <summary>A definition of feed.tick once a year.</summary>
    private static string Yearly()
        => new ScheduleDefinition("feed.tick", Queue, ScheduleDefinition.NoArguments, 0, null, "@yearly", PeriodicSpec.Utc, MisfirePolicy.RunOnce, OverlapPolicy.Allow, Declared: false).Encode();

    /// <summary>The number of reads of every schedule since the log was reset.</summary>
    private static async Task<int> ReadsAsync(Setup setup)
    {
        var log = await setup.Admin.GetServer(setup.Redis.Endpoint).SlowlogGetAsync(10000);
        var key = setup.Prefix + ":{schedules}:schedules";
        return log.Count(c => c.Arguments.Length > 3 && (string?)c.Arguments[2] == "1" && (string?)c.Arguments[3] == key);
    }

    /// <summary>A Redis logging every command; the worker's store (its safety look <paramref name="safetyLook"/>) and firing loop on a fake clock; another process's store.</summary>
    private static async Task<Setup> SetupAsync(TimeSpan safetyLook)
    {
        var redis = await RedisServer.StartAsync(extraArguments: ["--slowlog-log-slower-than", "0", "--slowlog-max-len", "10000"]);
        var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
        var prefix = RedisHost.NewPrefix();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix, SafetyLookInterval = safetyLook });
        var other = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var task = Firers.Task("feed.tick", Queue);
        var client = new TaskClient(store, clock);
        var scheduler = new PeriodicScheduler(client, store, [Queue], new System.Collections.Generic.Dictionary<string, TaskDescriptor> { [task.Name] = task }, new StoreOutage(NullLogger.Instance, clock), clock, NullLogger.Instance);
        var call = TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(other));
        return new Setup(redis, admin, prefix, clock, store, other, scheduler, new TaskSchedules(other, TimeProvider.System), call);
    }

    private sealed record Setup(RedisServer Redis, ConnectionMultiplexer Admin, string Prefix, FakeTimeProvider Clock, RedisTaskStore Store, RedisTaskStore Other, PeriodicScheduler Scheduler, TaskSchedules Schedules, TaskCall Call) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Store.DisposeAsync();
            await Other.DisposeAsync();
            await Admin.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }
}

using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Scheduling;
using TypedTasks.Testing;
using TypedTasks.Testing.StoreConformance;
using TypedTasks.Worker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>What one worker's round of firing sends to Redis.</summary>
public sealed class ScheduleRoundTests
{
    private const string Queue = "round";

    [Fact]
    public async Task Ten_schedules_due_together_are_enqueued_in_one_script_call_and_advanced_in_one()
    {
        // Input: ten schedules of every second on one queue, all due, fired by one worker's round,
        // with Redis logging every command (slowlog threshold 0). Expected: one script call on
        // the queue, with the ten fires (not the first alone and the nine others one round trip
        // later, which is that much later for their runs), then one that moves the ten schedules
        // on (not ten, which Redis runs while the workers fetch the fires).
        await using var redis = await RedisServer.StartAsync(extraArguments: ["--slowlog-log-slower-than", "0", "--slowlog-max-len", "10000"]);
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
        var prefix = RedisHost.NewPrefix();
        await using var store = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var task = Firers.Task("round.tick", Queue);
        var client = new TaskClient(store);
        // A whole second: from a time in the last lead of a second the round would also fire the
        // fire time after the one due, which is less than the lead ahead.
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        var schedules = new TaskSchedules(store, clock);
        for (var i = 0; i < 10; i++)
        {
            await schedules.UpsertAsync("tick-" + i.ToString(CultureInfo.InvariantCulture), TaskCall.Bind(task, ScheduleDefinition.NoArguments, client), "* * * * * *");
        }

        // Loads the store's scripts (a first call may go twice); then the first fire time comes.
        await client.SendCallAsync(TaskCall.Bind(task, ScheduleDefinition.NoArguments, client), new EnqueueOptions { Queue = "warm-up" }, default, default);
        clock.Advance(TimeSpan.FromSeconds(1));
        var server = admin.GetServer(redis.Endpoint);
        await server.SlowlogResetAsync();

        await new Firers(store, [clock], [task], Queue).RoundAsync(0);

        var log = await server.SlowlogGetAsync(10000);
        var seq = (string)store.SeqKey(Queue)!;
        var enqueues = log.Where(c => c.Arguments.Length > 3 && (string?)c.Arguments[3] == seq).ToList();
        var advances = log.Where(c => c.Arguments.Length > 3 && ((string?)c.Arguments[3])!.StartsWith(prefix + ":{schedules}:schedule:", StringComparison.Ordinal)).ToList();
        var fired = await Firers.FiredAsync(store, Queue);
        Assert.Equal(10, fired.Count);
        Assert.All(await store.ListSchedulesAsync(), s => Assert.Equal(fired[0].ScheduledFor + TimeSpan.FromSeconds(1), s.NextFireAt));
        Assert.True(enqueues.Count == 1, $"{enqueues.Count} script calls on the queue: {string.Join("; ", enqueues.Select(c => string.Join(' ', c.Arguments.Take(3))))}");
        Assert.True(advances.Count == 1, $"{advances.Count} script calls on the schedules: {string.Join("; ", advances.Select(c => string.Join(' ', c.Arguments.Take(4))))}");
    }

    [Fact]
    public async Task A_worker_that_lost_the_advance_leaves_the_next_fire_time_to_the_winner_and_only_reads_later()
    {
        // Input: ten schedules of every second, two workers on one clock, each on its own
        // connection; at a fire time both fire at once (both enqueue, one moves the schedules
        // on). At the next fire time the loser's round runs first, then the winner's, then the
        // loser's again a backup delay later, with Redis logging every command. Expected: the
        // loser enqueues nothing at the fire time (it asks to sleep the backup delay) nor after
        // it; the fire time costs one enqueue script call, the winner's, not one per worker.
        await using var setup = await TwoWorkersAsync();
        var (winner, loser) = await FirstFireAsync(setup);
        setup.Clock.Advance(TimeSpan.FromSeconds(1));
        var due = setup.Clock.GetUtcNow();
        await setup.Server.SlowlogResetAsync();

        Assert.Equal(PeriodicScheduler.BackupDelay, await setup.RoundAsync(loser));
        var early = await setup.QueueCalls();
        Assert.True(early.Count == 0, $"The loser sent {early.Count} script calls on the queue at the fire time: {string.Join("; ", early)}");
        Assert.Equal(TimeSpan.FromSeconds(1) - FireTimeHold.Lead, await setup.RoundAsync(winner));
        setup.Clock.Advance(PeriodicScheduler.BackupDelay);
        Assert.Equal(TimeSpan.FromSeconds(1), await setup.RoundAsync(loser));

        var calls = await setup.QueueCalls();
        Assert.True(calls.Count == 1, $"{calls.Count} script calls on the queue for one fire time: {string.Join("; ", calls)}");
        Assert.Equal(10, (await Firers.FiredAsync(setup.Store, Queue)).Count(f => f.ScheduledFor == due));
    }

    [Fact]
    public async Task A_fire_time_its_winner_does_not_fire_is_fired_by_the_other_worker_a_backup_delay_late_which_then_fires_on_time()
    {
        // Input: as above, but at the next fire time only the loser's round runs (the winner
        // stopped). Expected: at the fire time it enqueues nothing and asks to sleep the backup
        // delay; then it fires the ten schedules and moves them on; for the fire time after, it
        // fires them a lead before it, being the worker that moved them last.
        await using var setup = await TwoWorkersAsync();
        var (_, loser) = await FirstFireAsync(setup);
        setup.Clock.Advance(TimeSpan.FromSeconds(1));
        var due = setup.Clock.GetUtcNow();

        Assert.Equal(PeriodicScheduler.BackupDelay, await setup.RoundAsync(loser));
        Assert.DoesNotContain(await Firers.FiredAsync(setup.Store, Queue), f => f.ScheduledFor == due);

        setup.Clock.Advance(PeriodicScheduler.BackupDelay);
        Assert.Equal(TimeSpan.FromSeconds(1) - PeriodicScheduler.BackupDelay - FireTimeHold.Lead, await setup.RoundAsync(loser));
        Assert.Equal(10, (await Firers.FiredAsync(setup.Store, Queue)).Count(f => f.ScheduledFor == due));
        Assert.All(await setup.Store.ListSchedulesAsync(), s => Assert.Equal(due.AddSeconds(1), s.NextFireAt));

        setup.Clock.Advance(TimeSpan.FromSeconds(1) - PeriodicScheduler.BackupDelay - FireTimeHold.Lead);
        Assert.Equal(TimeSpan.FromSeconds(1), await setup.RoundAsync(loser));
        Assert.Equal(10, (await Firers.FiredAsync(setup.Store, Queue)).Count(f => f.ScheduledFor == due.AddSeconds(1)));
    }

    /// <summary>
    /// A fire time due to both workers at once, at which both enqueue its fires and one moves the
    /// schedules on; returns which worker did (it asks to sleep a second less the lead, the other
    /// a second and the backup delay). Both read the schedules at once; should one round end before the other
    /// reads (both ask to sleep a second less the lead: neither lost), the next fire time is tried, five at most.
    /// </summary>
    private static async Task<(int Winner, int Loser)> FirstFireAsync(TwoWorkers setup)
    {
        // Rounds before the first fire time store nothing and read the schedules once each.
        await setup.RoundAsync();
        var second = TimeSpan.FromSeconds(1);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            setup.Clock.Advance(second);
            var sleeps = await setup.RoundAsync();
            if (sleeps.Contains(second + PeriodicScheduler.BackupDelay))
            {
                Assert.Equal([second - FireTimeHold.Lead, second + PeriodicScheduler.BackupDelay], sleeps.Order());
                return sleeps[0] == second - FireTimeHold.Lead ? (0, 1) : (1, 0);
            }

            Assert.Equal([second - FireTimeHold.Lead, second - FireTimeHold.Lead], sleeps);
        }

        Assert.Fail("In five fire times due to both workers, neither asked to look at the next one a backup delay late.");
        return default;
    }

    /// <summary>Ten schedules of every second on the queue, two workers (a store each) on one clock standing at a whole second, and Redis logging every command.</summary>
    private static async Task<TwoWorkers> TwoWorkersAsync()
    {
        var redis = await RedisServer.StartAsync(extraArguments: ["--slowlog-log-slower-than", "0", "--slowlog-max-len", "10000"]);
        var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
        var prefix = RedisHost.NewPrefix();
        var store = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var other = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var task = Firers.Task("round.tick", Queue);
        var client = new TaskClient(store);
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var clock = new FakeTimeProvider(start);
        var schedules = new TaskSchedules(store, clock);
        for (var i = 0; i < 10; i++)
        {
            await schedules.UpsertAsync("tick-" + i.ToString(CultureInfo.InvariantCulture), TaskCall.Bind(task, ScheduleDefinition.NoArguments, client), "* * * * * *");
        }

        // Loads the store's scripts (a first call may go twice).
        await client.SendCallAsync(TaskCall.Bind(task, ScheduleDefinition.NoArguments, client), new EnqueueOptions { Queue = "warm-up" }, default, default);
        return new TwoWorkers(redis, admin, store, other, clock, start, [new Firers(store, [clock], [task], Queue), new Firers(other, [clock], [task], Queue)]);
    }

    /// <summary>Two workers' firing on one Redis with its command log, each on its own connection as in two processes; disposes the stores, the connection and the server.</summary>
    private sealed record TwoWorkers(RedisServer Redis, ConnectionMultiplexer Admin, RedisTaskStore Store, RedisTaskStore OtherStore, FakeTimeProvider Clock, DateTimeOffset Start, Firers[] Workers) : IAsyncDisposable
    {
        public IServer Server => Admin.GetServer(Redis.Endpoint);

        /// <summary>A round of both workers at once; returns the sleeps they asked for.</summary>
        public Task<TimeSpan[]> RoundAsync() => Task.WhenAll(Workers.Select(w => w.RoundAsync(0)));

        /// <summary>A round of worker <paramref name="index"/>.</summary>
        public Task<TimeSpan> RoundAsync(int index) => Workers[index].RoundAsync(0);

        /// <summary>The script calls on the queue since the log was last reset, as their first arguments.</summary>
        public async Task<System.Collections.Generic.List<string>> QueueCalls()
        {
            var seq = (string)Store.SeqKey(Queue)!;
            var log = await Server.SlowlogGetAsync(10000);
            return [.. log.Where(c => c.Arguments.Length > 3 && (string?)c.Arguments[3] == seq).Select(c => string.Join(' ', c.Arguments.Take(4)))];
        }

        public async ValueTask DisposeAsync()
        {
            await Store.DisposeAsync();
            await OtherStore.DisposeAsync();
            await Admin.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task Schedules_with_a_field_or_a_key_written_by_hand_are_listed_with_their_problem_and_the_others_fire()
    {
        // Input: four schedules of every second, all due; by hand, "g" gets generation "abc", "n"
        // a next fire time "later", and "w"'s hash is replaced by a string.
        // Expected: the store lists all four, the three with a problem naming the field or the
        // key (and GetScheduleAsync reads "w" so too, instead of failing); the listing of
        // schedules shows those problems; a worker's round fires "ok" alone and moves it on.
        await using var redis = await RedisServer.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var prefix = RedisHost.NewPrefix();
        await using var store = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var task = Firers.Task("round.tick", Queue);
        var client = new TaskClient(store);
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        var schedules = new TaskSchedules(store, clock);
        foreach (var name in new[] { "ok", "g", "n", "w" })
        {
            await schedules.UpsertAsync(name, TaskCall.Bind(task, ScheduleDefinition.NoArguments, client), "* * * * * *");
        }

        var db = admin.GetDatabase();
        var key = prefix + ":{schedules}:schedule:";
        await db.HashSetAsync(key + "g", "g", "abc");
        await db.HashSetAsync(key + "n", "n", "later");
        await db.KeyDeleteAsync(key + "w");
        await db.StringSetAsync(key + "w", "not a hash");

        var stored = (await store.ListSchedulesAsync()).ToDictionary(s => s.Name);
        Assert.Equal(["g", "n", "ok", "w"], stored.Keys.Order(StringComparer.Ordinal));
        Assert.Null(stored["ok"].Problem);
        Assert.Contains($"the field g of its key {key}g is no whole number ('abc')", stored["g"].Problem, StringComparison.Ordinal);
        Assert.Contains($"the field n of its key {key}n is no whole number ('later')", stored["n"].Problem, StringComparison.Ordinal);
        Assert.Contains($"its key {key}w cannot be read (WRONGTYPE", stored["w"].Problem, StringComparison.Ordinal);
        Assert.Equal(stored["w"].Problem, (await store.GetScheduleAsync("w"))!.Problem);
        var listed = (await schedules.ListAsync()).ToDictionary(s => s.Name);
        Assert.Equal((null, stored["g"].Problem, stored["w"].Problem), (listed["ok"].Problem, listed["g"].Problem, listed["w"].Problem));

        clock.Advance(TimeSpan.FromSeconds(1));
        await new Firers(store, [clock], [task], Queue).RoundAsync(0);
        var fired = await Firers.FiredAsync(store, Queue);
        Assert.Single(fired);
        Assert.Equal(fired[0].ScheduledFor + TimeSpan.FromSeconds(1), (await store.GetScheduleAsync("ok"))!.NextFireAt);
    }

    [Fact]
    public async Task Advances_sent_together_with_one_schedule_key_of_another_type_fail_before_any_schedule_moves()
    {
        // Input: schedules "a" and "b" due at T, then b's hash replaced by a string; both advanced
        // to T + 1 s in one script call (a hold). Error: the call fails naming b's key, and "a" has
        // not moved either (a call that moved "a" and then failed would report it not moved).
        await using var redis = await RedisServer.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var prefix = RedisHost.NewPrefix();
        await using var store = await RedisTaskStore.ConnectAsync(redis.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var due = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var a = await store.UpsertScheduleAsync("a", "definition a", due);
        await store.UpsertScheduleAsync("b", "definition b", due);
        var broken = prefix + ":{schedules}:schedule:b";
        await admin.GetDatabase().KeyDeleteAsync(broken);
        await admin.GetDatabase().StringSetAsync(broken, "not a hash");

        Task<bool> first, second;
        using (TypedTasks.Store.StoreCallHold.Open())
        {
            first = store.AdvanceAsync("a", a.Generation, due, due.AddSeconds(1), due, "a-fire").AsTask();
            second = store.AdvanceAsync("b", a.Generation, due, due.AddSeconds(1), due, "b-fire").AsTask();
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => first);
        Assert.Contains(broken, error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Exception>(() => second);
        var after = await store.GetScheduleAsync("a");
        Assert.Equal(due, after!.NextFireAt);
        Assert.Null(after.LastTaskId);
    }
}

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
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
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

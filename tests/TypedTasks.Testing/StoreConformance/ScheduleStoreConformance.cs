using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.Scheduling;
using TypedTasks.Store;
using Xunit;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// The behaviour every <see cref="IScheduleStore"/> shares, one fact per rule, and the leaderless
/// firing on top of it: a store's test class derives from this and says how to make a fresh,
/// empty store (that is also its task store, where fires are enqueued).
/// </summary>
public abstract class ScheduleStoreConformance : IAsyncLifetime
{
    private const string Queue = "schedule-conformance";
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly List<ITaskStore> _stores = [];

    /// <summary>A new store that holds nothing. Each fact calls it once.</summary>
    protected abstract Task<ITaskStore> CreateStoreAsync();

    /// <summary>Runs after every store of the test is disposed.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await CleanUpAsync();
    }

    [Fact]
    public async Task A_new_schedule_has_generation_1_its_next_fire_time_and_reads_back()
    {
        var (_, schedules) = await StoreAsync();
        var stored = await schedules.UpsertScheduleAsync("nightly", "definition-a", T0);

        Assert.Equal(new StoredSchedule("nightly", "definition-a", 1, T0, false, null, null, null), stored);
        Assert.Equal(stored, await schedules.GetScheduleAsync("nightly"));
        Assert.Null(await schedules.GetScheduleAsync("other"));
    }

    [Fact]
    public async Task Upserting_the_same_definition_changes_nothing()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("s", "definition-a", T0);
        Assert.True(await schedules.AdvanceAsync("s", 1, T0, T0.AddMinutes(1), T0, "task-1"));

        var again = await schedules.UpsertScheduleAsync("s", "definition-a", T0.AddHours(5));

        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0.AddMinutes(1), false, T0, "task-1", null), again);
    }

    [Fact]
    public async Task A_changed_definition_bumps_the_generation_takes_the_new_next_time_and_keeps_pause_and_last_run()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("s", "definition-a", T0);
        await schedules.AdvanceAsync("s", 1, T0, T0.AddMinutes(1), T0, "task-1");
        await schedules.SetPausedAsync("s", true, null);

        var changed = await schedules.UpsertScheduleAsync("s", "definition-b", T0.AddHours(1));

        Assert.Equal(new StoredSchedule("s", "definition-b", 2, T0.AddHours(1), true, T0, "task-1", null), changed);
        Assert.Equal(3, (await schedules.UpsertScheduleAsync("s", "definition-c", null)).Generation);
        Assert.Null((await schedules.GetScheduleAsync("s"))!.NextFireAt);
    }

    [Fact]
    public async Task Advance_is_a_compare_and_set_on_generation_and_expected_next_time()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("s", "definition-a", T0);

        Assert.False(await schedules.AdvanceAsync("s", 2, T0, T0.AddMinutes(1), T0, "x"));                 // wrong generation
        Assert.False(await schedules.AdvanceAsync("s", 1, T0.AddSeconds(1), T0.AddMinutes(1), T0, "x"));   // wrong expected time
        Assert.False(await schedules.AdvanceAsync("missing", 1, T0, T0.AddMinutes(1), T0, "x"));           // no such schedule
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0, false, null, null, null), await schedules.GetScheduleAsync("s"));

        Assert.True(await schedules.AdvanceAsync("s", 1, T0, T0.AddMinutes(1), T0, "task-1"));
        Assert.False(await schedules.AdvanceAsync("s", 1, T0, T0.AddMinutes(1), T0, "task-1"));            // the same step again
        Assert.True(await schedules.AdvanceAsync("s", 1, T0.AddMinutes(1), T0.AddMinutes(1), null, null));  // a fire skipped for the run still going: the last run is kept
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0.AddMinutes(1), false, T0, "task-1", null), await schedules.GetScheduleAsync("s"));
        Assert.True(await schedules.AdvanceAsync("s", 1, T0.AddMinutes(1), T0.AddMinutes(2), T0.AddMinutes(1), null)); // a skipped fire
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0.AddMinutes(2), false, T0.AddMinutes(1), null, null), await schedules.GetScheduleAsync("s"));

        Assert.True(await schedules.AdvanceAsync("s", 1, T0.AddMinutes(2), null, null, null));               // no more fire times, no run recorded
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, null, false, T0.AddMinutes(1), null, null), await schedules.GetScheduleAsync("s"));
    }

    [Fact]
    public async Task Of_many_concurrent_advances_with_the_same_expectation_exactly_one_wins()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("s", "definition-a", T0);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => schedules.AdvanceAsync("s", 1, T0, T0.AddMinutes(1), T0, "task-" + i).AsTask()));

        Assert.Single(results, r => r);
    }

    [Fact]
    public async Task Pause_keeps_the_next_time_and_resume_sets_a_new_one()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("s", "definition-a", T0);

        Assert.True(await schedules.SetPausedAsync("s", true, T0.AddDays(9)));
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0, true, null, null, null), await schedules.GetScheduleAsync("s"));
        Assert.True(await schedules.SetPausedAsync("s", false, T0.AddHours(2)));
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0.AddHours(2), false, null, null, null), await schedules.GetScheduleAsync("s"));
        Assert.False(await schedules.SetPausedAsync("missing", true, null));
    }

    [Fact]
    public async Task A_trigger_request_waits_once_and_is_cleared_by_its_own_completion_only()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("s", "definition-a", T0);
        var at = T0.AddSeconds(30);

        Assert.True(await schedules.RequestTriggerAsync("s", at));
        Assert.False(await schedules.RequestTriggerAsync("s", at.AddSeconds(1)));        // one waits already
        Assert.False(await schedules.RequestTriggerAsync("missing", at));
        Assert.Equal(at, (await schedules.GetScheduleAsync("s"))!.TriggerRequestedAt);

        Assert.False(await schedules.CompleteTriggerAsync("s", at.AddSeconds(1), "task-x")); // not that request
        Assert.True(await schedules.CompleteTriggerAsync("s", at, "task-t"));
        Assert.False(await schedules.CompleteTriggerAsync("s", at, "task-t"));
        Assert.Equal(new StoredSchedule("s", "definition-a", 1, T0, false, at, "task-t", null), await schedules.GetScheduleAsync("s"));
    }

    [Fact]
    public async Task Remove_deletes_and_later_changes_find_nothing()
    {
        var (_, schedules) = await StoreAsync();
        await schedules.UpsertScheduleAsync("b", "definition-b", T0);
        await schedules.UpsertScheduleAsync("a", "definition-a", T0);
        Assert.Equal(["a", "b"], (await schedules.ListSchedulesAsync()).Select(s => s.Name));

        Assert.True(await schedules.RemoveScheduleAsync("a"));
        Assert.False(await schedules.RemoveScheduleAsync("a"));
        Assert.Null(await schedules.GetScheduleAsync("a"));
        Assert.Equal(["b"], (await schedules.ListSchedulesAsync()).Select(s => s.Name));
        Assert.False(await schedules.AdvanceAsync("a", 1, T0, T0.AddMinutes(1), T0, "x"));

        // Made again, it starts over at generation 1.
        Assert.Equal(1, (await schedules.UpsertScheduleAsync("a", "definition-a2", T0)).Generation);
    }

    [Fact]
    public async Task Three_workers_fire_every_second_of_a_minute_exactly_once()
    {
        var (store, _) = await StoreAsync();
        var clock = new FakeTimeProvider(T0);
        var task = Firers.Task("conformance.tick", Queue);
        var firers = new Firers(store, [clock, clock, clock], [task], Queue);
        await new TaskSchedules(store, clock).UpsertAsync("every-second", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(store, clock)), "* * * * * *");

        for (var i = 0; i < 60; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await firers.RoundAsync();
        }

        var fired = await Firers.FiredAsync(store, Queue);
        Assert.Equal(Enumerable.Range(1, 60).Select(s => T0.AddSeconds(s)), fired.Select(f => f.ScheduledFor));
        Assert.Equal(60, fired.Select(f => f.Id).Distinct().Count());
        Assert.Equal(T0.AddSeconds(61), (await ((IScheduleStore)store).GetScheduleAsync("every-second"))!.NextFireAt);
    }

    [Fact]
    public async Task Workers_with_clocks_apart_fire_each_time_once_and_skip_none()
    {
        var (store, _) = await StoreAsync();
        var ahead = new FakeTimeProvider(T0.AddMilliseconds(400));
        var exact = new FakeTimeProvider(T0);
        var behind = new FakeTimeProvider(T0.AddMilliseconds(-700));
        var task = Firers.Task("conformance.tick", Queue);
        var firers = new Firers(store, [ahead, exact, behind], [task], Queue);
        await new TaskSchedules(store, exact).UpsertAsync("every-second", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(store, exact)), "* * * * * *");

        for (var i = 0; i < 120; i++)
        {
            foreach (var clock in new[] { ahead, exact, behind })
            {
                clock.Advance(TimeSpan.FromMilliseconds(250));
            }

            await firers.RoundAsync(i % 3);
        }

        var fired = await Firers.FiredAsync(store, Queue);
        var last = fired[^1].ScheduledFor;
        Assert.Equal(Enumerable.Range(1, (int)(last - T0).TotalSeconds).Select(s => T0.AddSeconds(s)), fired.Select(f => f.ScheduledFor));
        Assert.True(fired.Count >= 29, $"{fired.Count} fires in 30 s");
    }

    /// <summary>A fresh store, with its schedules view.</summary>
    protected async Task<(ITaskStore Store, IScheduleStore Schedules)> StoreAsync()
    {
        var store = await CreateStoreAsync();
        _stores.Add(store);
        return (store, Assert.IsAssignableFrom<IScheduleStore>(store));
    }
}

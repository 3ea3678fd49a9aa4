using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Scheduling;
using TypedTasks.Store;
using TypedTasks.Testing.StoreConformance;

namespace TypedTasks.Tests.Scheduling;

/// <summary>
/// The worker's firing on the in-memory store with a fake clock: misfire and overlap policies, a
/// crash between the enqueue and the advance, generations, triggers, pauses, and the schedules
/// of [Periodic] tasks.
/// </summary>
public sealed class FiringTests : IAsyncDisposable
{
    private const string Queue = "firing";
    private static readonly DateTimeOffset T0 = new(2026, 5, 4, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(T0);
    private readonly InMemoryTaskStore _store;
    private readonly TaskDescriptor _task = Firers.Task("firing.run", Queue);

    public FiringTests() => _store = new InMemoryTaskStore(timeProvider: _clock);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private TaskSchedules Schedules => new(_store, _clock);

    private TaskCall Call => TaskCall.Bind(_task, ScheduleDefinition.NoArguments, new TaskClient(_store, _clock));

    private Firers Workers(int count = 1, params TaskDescriptor[] tasks)
        => new(_store, [.. Enumerable.Repeat<TimeProvider>(_clock, count)], tasks.Length > 0 ? tasks : [_task], Queue);

    [Theory]
    [InlineData(MisfirePolicy.RunOnce, new[] { 10 }, 11)]
    [InlineData(MisfirePolicy.RunAll, new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 11)]
    [InlineData(MisfirePolicy.Skip, new int[0], 11)]
    public async Task After_ten_minutes_without_a_worker_the_misfire_policy_decides(MisfirePolicy policy, int[] minutes, int nextMinute)
    {
        await Schedules.UpsertAsync("every-minute", Call, "* * * * *", options: new ScheduleOptions { Misfire = policy });
        _clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(30));

        await Workers().RoundAsync();

        var fired = await Firers.FiredAsync(_store, Queue);
        Assert.Equal(minutes.Select(m => T0.AddMinutes(m)), fired.Select(f => f.ScheduledFor));
        Assert.Equal(T0.AddMinutes(nextMinute), (await _store.GetScheduleAsync("every-minute"))!.NextFireAt);
    }

    [Fact]
    public async Task A_fire_seen_within_the_misfire_threshold_runs_whatever_the_policy()
    {
        await Schedules.UpsertAsync("every-minute", Call, "* * * * *", options: new ScheduleOptions { Misfire = MisfirePolicy.Skip });
        _clock.Advance(TimeSpan.FromMinutes(1) + ScheduleOptions.MisfireThreshold - TimeSpan.FromMilliseconds(1));

        await Workers().RoundAsync();

        Assert.Equal([T0.AddMinutes(1)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    [Fact]
    public async Task With_overlap_skip_a_fire_time_is_skipped_while_the_previous_run_is_not_final()
    {
        await Schedules.UpsertAsync("s", Call, "* * * * *", options: new ScheduleOptions { Overlap = OverlapPolicy.Skip });
        var workers = Workers();
        _clock.Advance(TimeSpan.FromMinutes(1));
        await workers.RoundAsync();
        var first = Assert.Single(await Firers.FiredAsync(_store, Queue));

        // The first run is still pending at the next two fire times: both are skipped (the second
        // skip once overlapped, the skip before it having made the schedule forget the run), and
        // the last run listed stays the one that holds them up.
        for (var minute = 2; minute <= 3; minute++)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            await workers.RoundAsync();
            var schedule = (await _store.GetScheduleAsync("s"))!;
            Assert.Equal((T0.AddMinutes(1), first.Id, T0.AddMinutes(minute + 1)), (schedule.LastFireAt, schedule.LastTaskId, schedule.NextFireAt));
            Assert.Single(await Firers.FiredAsync(_store, Queue));
        }

        Assert.True(await _store.CancelAsync(first.Id));  // final now
        _clock.Advance(TimeSpan.FromMinutes(1));
        await workers.RoundAsync();
        Assert.Equal([T0.AddMinutes(4)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
        Assert.Equal(T0.AddMinutes(4), (await _store.GetScheduleAsync("s"))!.LastFireAt);
    }

    [Fact]
    public async Task With_overlap_allow_runs_overlap()
    {
        await Schedules.UpsertAsync("s", Call, "* * * * *");
        var workers = Workers();
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            await workers.RoundAsync();
        }

        Assert.Equal(3, (await Firers.FiredAsync(_store, Queue)).Count);
    }

    [Fact]
    public async Task A_crash_between_the_enqueue_and_the_advance_neither_doubles_nor_drops_the_fire()
    {
        var stored = await Schedules.UpsertAsync("s", Call, "* * * * *");
        _clock.Advance(TimeSpan.FromMinutes(1));

        // A worker enqueued the fire and died before moving the schedule on.
        await new TaskClient(_store, _clock).SendCallAsync(Call, new EnqueueOptions { TaskId = FireIds.Fire("s", stored.Generation, T0.AddMinutes(1)), Queue = Queue }, new CallMarks(T0.AddMinutes(1)), default);
        Assert.Equal(T0.AddMinutes(1), (await _store.GetScheduleAsync("s"))!.NextFireAt);

        await Workers(3).RoundAsync();

        Assert.Equal([T0.AddMinutes(1)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
        Assert.Equal(T0.AddMinutes(2), (await _store.GetScheduleAsync("s"))!.NextFireAt);
    }

    [Fact]
    public async Task Changing_a_schedule_bumps_its_generation_and_upserting_it_unchanged_does_not()
    {
        var first = await Schedules.UpsertAsync("s", Call, "* * * * *");
        var same = await Schedules.UpsertAsync("s", Call, "* * * * *");
        var changed = await Schedules.UpsertAsync("s", Call, "*/2 * * * *");

        Assert.Equal((1L, 1L, 2L), (first.Generation, same.Generation, changed.Generation));
        Assert.Equal(T0.AddMinutes(2), changed.NextFireAt);
        Assert.Equal([T0.AddMinutes(2), T0.AddMinutes(4), T0.AddMinutes(6), T0.AddMinutes(8), T0.AddMinutes(10)], changed.NextFireTimes);
        _clock.Advance(TimeSpan.FromMinutes(2));
        await Workers().RoundAsync();
        var fired = Assert.Single(await Firers.FiredAsync(_store, Queue));
        Assert.StartsWith(FireIds.Fire("s", 2, T0.AddMinutes(2)), fired.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trigger_runs_once_at_the_request_time_and_becomes_the_last_run()
    {
        await Schedules.UpsertAsync("s", Call, "0 3 * * *");
        _clock.Advance(TimeSpan.FromSeconds(7));
        Assert.True(await Schedules.TriggerAsync("s"));
        Assert.True(await Schedules.TriggerAsync("s")); // already waiting: still one run
        Assert.False(await Schedules.TriggerAsync("missing"));
        Assert.True((await Schedules.GetAsync("s"))!.TriggerPending);

        var workers = Workers(3);
        await workers.RoundAsync();
        await workers.RoundAsync();

        var fired = Assert.Single(await Firers.FiredAsync(_store, Queue));
        Assert.Equal(T0.AddSeconds(7), fired.ScheduledFor);
        var info = (await Schedules.GetAsync("s"))!;
        Assert.Equal((false, T0.AddSeconds(7), fired.Id, TaskState.Pending), (info.TriggerPending, info.LastFireAt, info.LastTaskId, info.LastState));
    }

    [Fact]
    public async Task A_schedule_in_a_zone_lists_its_fire_times_in_utc_and_a_zone_made_in_code_is_refused_by_name()
    {
        // Input: a schedule at 06:00 every day in New York (UTC-4 on 4 May 2026), then one whose
        // TimeZoneInfo was made in code. Expected: every listed fire time has offset zero (one
        // offset in a list, whatever the zone), and the made zone fails naming the timeZone parameter.
        var york = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var info = await Schedules.UpsertAsync("ny", Call, "0 6 * * *", york);
        Assert.Equal(new DateTimeOffset(2026, 5, 5, 10, 0, 0, TimeSpan.Zero), info.NextFireAt);
        Assert.All(info.NextFireTimes, t => Assert.Equal(TimeSpan.Zero, t.Offset));
        Assert.Equal(Enumerable.Range(5, 5).Select(d => new DateTimeOffset(2026, 5, d, 10, 0, 0, TimeSpan.Zero)), info.NextFireTimes);
        Assert.All((await Schedules.ListAsync()).Single(s => s.Name == "ny").NextFireTimes, t => Assert.Equal(TimeSpan.Zero, t.Offset));

        var made = TimeZoneInfo.CreateCustomTimeZone("Mine", TimeSpan.FromHours(3), "Mine", "Mine");
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Schedules.UpsertAsync("mine", Call, "0 6 * * *", made));
        Assert.Equal("timeZone", refused.ParamName);
        Assert.StartsWith("The time zone \"Mine\" is not known on this machine.", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was stored.", refused.Message, StringComparison.Ordinal);
        Assert.Null(await Schedules.GetAsync("mine"));
    }

    [Fact]
    public async Task A_paused_schedule_fires_nothing_and_resumes_from_the_next_time_after_now()
    {
        await Schedules.UpsertAsync("s", Call, "* * * * *");
        Assert.True(await Schedules.PauseAsync("s"));
        var workers = Workers();
        _clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(10));
        await workers.RoundAsync();
        Assert.Empty(await Firers.FiredAsync(_store, Queue));
        var paused = (await Schedules.GetAsync("s"))!;
        Assert.True(paused.Paused);
        // Listed with the times it would fire if resumed now, never the ones that passed.
        Assert.Equal(T0.AddMinutes(6), paused.NextFireAt);
        Assert.Equal(Enumerable.Range(6, 5).Select(m => T0.AddMinutes(m)), paused.NextFireTimes);

        Assert.True(await Schedules.ResumeAsync("s"));
        Assert.Equal(T0.AddMinutes(6), (await Schedules.GetAsync("s"))!.NextFireAt);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await workers.RoundAsync();
        Assert.Equal([T0.AddMinutes(6)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
        Assert.False(await Schedules.PauseAsync("missing"));
        Assert.False(await Schedules.ResumeAsync("missing"));
    }

    [Fact]
    public async Task A_periodic_task_is_stored_at_start_and_again_when_the_store_lost_it()
    {
        var periodic = Firers.Task("firing.nightly", Queue, new PeriodicSpec("0 3 * * *", "Europe/Berlin", MisfirePolicy.RunOnce, OverlapPolicy.Allow));
        var workers = Workers(2, _task, periodic);

        await workers.RoundAsync();
        var stored = (await _store.GetScheduleAsync("firing.nightly"))!;
        Assert.Equal((1L, new DateTimeOffset(2026, 5, 5, 1, 0, 0, TimeSpan.Zero)), (stored.Generation, stored.NextFireAt!.Value));

        Assert.True(await _store.RemoveScheduleAsync("firing.nightly"));
        await workers.RoundAsync(1);
        Assert.NotNull(await _store.GetScheduleAsync("firing.nightly"));

        var info = Assert.Single(await Schedules.ListAsync());
        Assert.Equal(("firing.nightly", "0 3 * * *", "Europe/Berlin", true), (info.Name, info.Cron, info.TimeZone, info.Declared));
    }

    [Fact]
    public async Task A_periodic_task_in_a_zone_this_machine_does_not_know_is_not_stored_and_the_other_schedules_fire()
    {
        var broken = Firers.Task("firing.broken", Queue, new PeriodicSpec("* * * * *", "Mars/Olympus", MisfirePolicy.RunOnce, OverlapPolicy.Allow));
        await Schedules.UpsertAsync("s", Call, "* * * * *");
        var workers = Workers(1, _task, broken);

        _clock.Advance(TimeSpan.FromMinutes(1));
        await workers.RoundAsync();
        _clock.Advance(TimeSpan.FromMinutes(1));
        await workers.RoundAsync();

        Assert.Null(await _store.GetScheduleAsync("firing.broken"));
        Assert.Equal([T0.AddMinutes(1), T0.AddMinutes(2)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    [Fact]
    public async Task A_worker_does_not_fire_schedules_of_queues_it_does_not_serve_or_tasks_it_does_not_know()
    {
        await Schedules.UpsertAsync("other-queue", TaskCall.Bind(Firers.Task("firing.elsewhere", "elsewhere"), ScheduleDefinition.NoArguments, new TaskClient(_store, _clock)), "* * * * *");
        await Schedules.UpsertAsync("unknown-task", TaskCall.Bind(Firers.Task("firing.unknown", Queue), ScheduleDefinition.NoArguments, new TaskClient(_store, _clock)), "* * * * *");
        _clock.Advance(TimeSpan.FromMinutes(1));

        await Workers().RoundAsync();

        Assert.Empty(await Firers.FiredAsync(_store, Queue));
        Assert.Equal(T0.AddMinutes(1), (await _store.GetScheduleAsync("unknown-task"))!.NextFireAt);
    }

    [Fact]
    public async Task An_idle_worker_sleeps_to_the_next_fire_time_and_at_most_a_second()
    {
        await Schedules.UpsertAsync("s", Call, "*/10 * * * * *");
        _clock.Advance(TimeSpan.FromSeconds(9.7));
        Assert.Equal(TimeSpan.FromSeconds(0.3) - Lead, await Workers().RoundAsync(0));
        _clock.Advance(TimeSpan.FromSeconds(0.3));
        Assert.Equal(PeriodicSchedulerMaxSleep, await Workers().RoundAsync(0));
    }

    [Fact]
    public async Task A_schedule_whose_fire_cannot_be_enqueued_stays_due_and_the_others_due_with_it_fire_and_move_on()
    {
        // Input: two schedules due in the same round, one of them with arguments of 5 MB (more
        // than the 4 MB a message may have). Expected: the round throws the size error; the other
        // schedule's fire is enqueued and it moves to its next fire time; the large one enqueued
        // nothing and stays due.
        var large = new byte[(5 * 1024 * 1024) + 6];
        large[0] = 0x91;
        large[1] = 0xc6;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(large.AsSpan(2), large.Length - 6);
        await Schedules.UpsertAsync("large", TaskCall.Bind(_task, large, new TaskClient(_store, _clock)), "* * * * *");
        await Schedules.UpsertAsync("small", Call, "* * * * *");
        _clock.Advance(TimeSpan.FromMinutes(1));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Workers().RoundAsync(0));

        Assert.Contains("more than the limit", error.Message, StringComparison.Ordinal);
        Assert.Equal([T0.AddMinutes(1)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
        Assert.Equal(T0.AddMinutes(2), (await _store.GetScheduleAsync("small"))!.NextFireAt);
        Assert.Equal(T0.AddMinutes(1), (await _store.GetScheduleAsync("large"))!.NextFireAt);
    }

    [Fact]
    public async Task The_sleep_to_a_fire_time_is_whole_milliseconds_rounded_up_so_that_a_timer_does_not_end_before_it()
    {
        // Input: a schedule of every second, a round 0.4 ms after a fire time (0.4 ms of the
        // clock's 950 ms to the next round, the lead before the next fire time). Expected: a
        // sleep of 950 ms (a timer cuts 949.6 ms to 949 and would wake before the round's time,
        // to a round with nothing due).
        await Schedules.UpsertAsync("s", Call, "* * * * * *");
        _clock.Advance(TimeSpan.FromTicks(4_000));
        Assert.Equal(TimeSpan.FromSeconds(1) - Lead, await Workers().RoundAsync(0));
    }

    [Fact]
    public async Task A_round_woken_just_before_the_fire_time_it_slept_for_waits_for_it_and_fires()
    {
        // Input: a schedule of every second; a round asks to sleep to the next fire time, and the
        // next round starts 0.4 ms before it (a timer on a coarse clock). Expected: the round
        // waits until the fire time and fires it, rather than finding nothing due.
        await Schedules.UpsertAsync("s", Call, "* * * * * *");
        var workers = Workers();
        var sleep = await workers.RoundOnTimeAsync(0);
        _clock.Advance(sleep - TimeSpan.FromTicks(4_000));

        var round = workers.RoundOnTimeAsync(0);
        Assert.False(round.IsCompleted);
        Assert.Empty(await Firers.FiredAsync(_store, Queue));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await round.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([T0.AddSeconds(1)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    [Fact]
    public async Task A_round_woken_long_before_its_wake_time_does_not_wait_for_it()
    {
        // Input: a round asks to sleep a second, and the next starts half a second into it (more
        // than a timer's rounding: a clock set back, a sleep cut short). Expected: it runs at
        // once (with the fake clock standing still), and asks for its next second.
        await Schedules.UpsertAsync("s", Call, "*/10 * * * * *");
        var workers = Workers();
        Assert.Equal(TimeSpan.FromSeconds(1), await workers.RoundOnTimeAsync(0));
        _clock.Advance(TimeSpan.FromSeconds(0.5));

        var round = workers.RoundOnTimeAsync(0);
        Assert.True(round.IsCompleted);
        Assert.Equal(TimeSpan.FromSeconds(1), await round);
    }

    [Theory]
    [InlineData(MisfirePolicy.RunOnce)]
    [InlineData(MisfirePolicy.RunAll)]
    [InlineData(MisfirePolicy.Skip)]
    public async Task A_worker_that_reads_a_fire_time_it_waited_for_already_fired_by_another_looks_at_the_next_one_a_backup_delay_late(MisfirePolicy policy)
    {
        // Input: a schedule of every second and two workers on one clock; at each fire time worker
        // 0's round ends before worker 1's starts (worker 1's clock a few milliseconds behind, or
        // its timer later), so worker 1 never races worker 0's compare-and-set. Expected: worker 1,
        // finding the fire time it waited for fired and moved on by worker 0, looks at the next one
        // a backup delay late (as a worker whose advance lost does): at that fire time it sends
        // nothing, and it fires it when worker 0 did not, on time whatever the misfire policy
        // (a backup delay is far within the misfire threshold).
        await Schedules.UpsertAsync("s", Call, "* * * * * *", options: new ScheduleOptions { Misfire = policy });
        var workers = Workers(2);
        await workers.RoundAsync(0);
        await workers.RoundAsync(1);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1) - Lead, await workers.RoundAsync(0));
        Assert.Equal(TimeSpan.FromSeconds(1) + BackupDelay, await workers.RoundAsync(1));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(BackupDelay, await workers.RoundAsync(1));
        Assert.Equal([T0.AddSeconds(1)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));

        _clock.Advance(BackupDelay);
        Assert.Equal(TimeSpan.FromSeconds(1) - BackupDelay - Lead, await workers.RoundAsync(1));
        Assert.Equal([T0.AddSeconds(1), T0.AddSeconds(2)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    [Fact]
    public async Task A_lone_worker_keeps_firing_on_time_when_its_schedule_is_triggered_changed_or_resumed()
    {
        // Input: one worker and a schedule of every second, triggered at a fire time, then changed
        // to every five seconds, then paused and resumed, each between the worker's rounds (each
        // moves the next fire time past the one the worker waited for, with no worker firing it).
        // Expected: the worker, the only one, does not take these for a fire time fired by
        // another: it asks to wake at its next fire time or a second later, whichever is first,
        // not a backup delay after that (its rounds a lead before its fire times), and fires the
        // fire time after the pause on time.
        await Schedules.UpsertAsync("s", Call, "* * * * * *");
        var workers = Workers();
        Assert.Equal(TimeSpan.FromSeconds(1) - Lead, await workers.RoundAsync(0));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Schedules.TriggerAsync("s"));
        Assert.Equal(TimeSpan.FromSeconds(1) - Lead, await workers.RoundAsync(0));
        Assert.Equal(TimeSpan.FromSeconds(1) - Lead, await workers.RoundAsync(0));

        await Schedules.UpsertAsync("s", Call, "*/5 * * * * *");
        Assert.Equal(PeriodicSchedulerMaxSleep, await workers.RoundAsync(0));

        Assert.True(await Schedules.PauseAsync("s"));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await Schedules.ResumeAsync("s"));
        Assert.Equal(PeriodicSchedulerMaxSleep, await workers.RoundAsync(0));

        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(PeriodicSchedulerMaxSleep, await workers.RoundAsync(0));
        Assert.Equal([T0.AddSeconds(1), T0.AddSeconds(1), T0.AddSeconds(10)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    private static TimeSpan PeriodicSchedulerMaxSleep => TypedTasks.Worker.PeriodicScheduler.MaxSleep;

    private static TimeSpan BackupDelay => TypedTasks.Worker.PeriodicScheduler.BackupDelay;

    private static TimeSpan Lead => TypedTasks.Worker.FireTimeHold.Lead;
}

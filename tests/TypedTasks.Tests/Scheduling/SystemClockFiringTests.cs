using System;
using System.Diagnostics;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Scheduling;
using TypedTasks.Testing;
using TypedTasks.Testing.StoreConformance;
using TypedTasks.Worker;

namespace TypedTasks.Tests.Scheduling;

/// <summary>
/// The worker's firing on the system clock, where its timer is set <see cref="PeriodicScheduler.TimerLead"/>
/// early and the rest waited on its thread: which wakes do so. The sleeps asked for are compared
/// with the time a round took (a stopwatch around it), never with a bound on it.
/// </summary>
public sealed class SystemClockFiringTests : IAsyncDisposable
{
    private const string Queue = "system-clock";
    private readonly InMemoryTaskStore _store = new();
    private readonly TaskDescriptor _task = Firers.Task("system-clock.run", Queue);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task An_idle_round_asks_for_its_whole_sleep_and_blocks_no_thread_before_the_next()
    {
        // Input: a worker on the system clock with no schedule, a round to warm up, then one
        // timed. Expected: it asks to sleep a second less only the time the round took, not
        // the timer lead as well (which its next round would spend blocking a thread-pool thread,
        // with nothing to fire at the end of it).
        var workers = new Firers(_store, [TimeProvider.System], [_task], Queue);
        await workers.RoundOnTimeAsync(0);

        var started = Stopwatch.GetTimestamp();
        var sleep = await workers.RoundOnTimeAsync(0);
        var took = Stopwatch.GetElapsedTime(started);

        Assert.True(sleep + took >= PeriodicScheduler.MaxSleep - TimeSpan.FromMilliseconds(1), $"An idle round that took {took.TotalMilliseconds:0.###} ms asked to sleep {sleep.TotalMilliseconds} ms.");
    }

    [Fact]
    public async Task Only_the_worker_that_fires_the_next_fire_time_on_time_sets_its_timer_early()
    {
        // Input: a schedule of every second and two workers on the system clock; once it is due,
        // worker 0's round fires it, then worker 1's round finds it fired (worker 1 looks at the
        // next one a backup delay late). Expected: worker 0 asks to sleep to its round a lead
        // before the next fire time, less the timer lead (the rest it waits on its thread, to
        // start its round on time);
        // worker 1 asks to sleep to that fire time and the backup delay, less only the time its
        // round took: its look is late by design, and needs no thread blocked before it.
        await new TaskSchedules(_store, TimeProvider.System).UpsertAsync("s", TaskCall.Bind(_task, ScheduleDefinition.NoArguments, new TaskClient(_store)), "* * * * * *");
        var workers = new Firers(_store, [TimeProvider.System, TimeProvider.System], [_task], Queue);
        await workers.RoundOnTimeAsync(0);
        await workers.RoundOnTimeAsync(1);
        var due = (await _store.GetScheduleAsync("s"))!.NextFireAt!.Value;
        await Poll.UntilAsync(() => Task.FromResult(DateTimeOffset.UtcNow >= due), "the schedule's fire time", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1));

        var before = DateTimeOffset.UtcNow;
        var firing = await workers.RoundOnTimeAsync(0);
        var next = (await _store.GetScheduleAsync("s"))!.NextFireAt!.Value;
        Assert.True(next > due, $"The schedule due at {due:O} was not fired.");
        Assert.True(firing <= next - FireTimeHold.Lead - before - PeriodicScheduler.TimerLead + TimeSpan.FromMilliseconds(1), $"The firing worker asked to sleep {firing.TotalMilliseconds} ms, {(next - before).TotalMilliseconds:0.###} ms before the next fire time.");

        var started = Stopwatch.GetTimestamp();
        before = DateTimeOffset.UtcNow;
        var looking = await workers.RoundOnTimeAsync(1);
        var took = Stopwatch.GetElapsedTime(started);
        Assert.True(looking + took >= next + PeriodicScheduler.BackupDelay - before - TimeSpan.FromMilliseconds(1), $"The other worker asked to sleep {looking.TotalMilliseconds} ms, {(next + PeriodicScheduler.BackupDelay - before).TotalMilliseconds:0.###} ms before its look, in a round of {took.TotalMilliseconds:0.###} ms.");
    }
}

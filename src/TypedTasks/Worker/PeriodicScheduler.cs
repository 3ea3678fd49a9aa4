using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Scheduling;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// Fires the schedules of the queues this worker serves, for the tasks it knows, with no leader:
/// every such worker runs this. A due fire is enqueued under its fire id (schedule, generation,
/// fire time), and only then does the schedule move on, by a compare-and-set on its generation and
/// next fire time; a worker that loses the race has enqueued the same id, which the store kept
/// once. A crash between the two steps leaves the schedule due, and the next worker repeats both.
/// The worker whose compare-and-set moved a schedule last fires it <see cref="FireTimeHold.Lead"/>
/// before its next fire time (the run is held by the worker that fetches it until that time); the
/// others, which lost that race or found the fire time they waited for fired by another (their
/// round came after its advance: a clock a few milliseconds behind), look at it
/// <see cref="BackupDelay"/> later and fire it only if it is still due (its worker stopped or
/// stalled), so that a fire time costs Redis one read, one enqueue and one advance rather than
/// one of each per worker, all in the same instant.
/// It stores the <see cref="PeriodicAttribute"/> schedules of its tasks at start, and again when
/// the store lost them. Between rounds it sleeps until the next fire time it knows of. On a store
/// that announces changes to its schedules (<see cref="IScheduleChangeFeed"/>) an announcement
/// ends the sleep, and with no fire time coming it sleeps the store's safety look interval; on
/// another store it sleeps at most <see cref="MaxSleep"/>, so that a schedule made or triggered
/// elsewhere waits no longer than that (and <see cref="BackupDelay"/> more, when it fires some
/// schedules late).
/// </summary>
internal sealed class PeriodicScheduler(
    TaskClient client,
    IScheduleStore schedules,
    IReadOnlyList<string> queues,
    IReadOnlyDictionary<string, TaskDescriptor> tasks,
    StoreOutage outage,
    TimeProvider time,
    ILogger logger)
{
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long after a fire time a worker that lost the schedule's last advance to another looks
    /// at it. Short, because it bounds how late a fire is when the worker that fires it stalls;
    /// long enough that the other has usually moved the schedule on by then.
    /// </summary>
    public static readonly TimeSpan BackupDelay = TimeSpan.FromMilliseconds(25);

    /// <summary>How early a wake is taken for a timer's rounding, not for a clock set back.</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How much earlier than its round for a fire time it fires on time the worker sets the system
    /// timer: the timer counts the coarse clock and ends on a thread-pool hop, up to a few
    /// milliseconds late, where the rest of the wait taken on the thread
    /// (<see cref="PreciseWaiter.BlockUntil"/>) ends on time.
    /// </summary>
    internal static readonly TimeSpan TimerLead = TimeSpan.FromMilliseconds(8);

    private readonly HashSet<string> _queues = new(queues, StringComparer.Ordinal);
    private readonly Dictionary<string, (string Definition, CronSchedule Cron)> _parsed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _broken = new(StringComparer.Ordinal);
    private readonly HashSet<string> _invalidDeclared = new(StringComparer.Ordinal);

    // Schedules this worker looks at late: its last advance found them moved by another, or it
    // found the fire time it waited for fired by another (under its lock).
    private readonly HashSet<string> _backup = new(StringComparer.Ordinal);

    // The fire time each schedule waited for at this worker's last round (the schedules it read
    // not yet due), to tell one fired by another worker in between.
    private Dictionary<string, DateTimeOffset> _awaited = new(StringComparer.Ordinal);

    // The first fire time of this round that this worker fires on time (under the lock of _backup).
    private DateTimeOffset _firstOnTime = DateTimeOffset.MaxValue;

    // Whether the wake the last round asked for is such a fire time: only a wake for one sets the
    // system timer early and waits the rest on its thread; an idle read or a look a backup delay
    // late has nothing to be on time for, and would block a thread-pool thread for nothing (the
    // look, as the runs of the fire time start in this process).
    private bool _wakeFires;
    private bool _declaredStored;
    private DateTimeOffset _wakeAt = DateTimeOffset.MinValue;

    // The longest sleep with no fire time coming: MaxSleep until the store's announcements are heard.
    private TimeSpan _idleSleep = MaxSleep;

    /// <summary>
    /// The <see cref="PeriodicAttribute"/> tasks this worker fires: those of the queues it serves,
    /// less those whose schedule it cannot read (logged once, at start).
    /// </summary>
    private IEnumerable<TaskDescriptor> Declared => tasks.Values.Where(t => t.Periodic is not null && _queues.Contains(t.Queue) && !_invalidDeclared.Contains(t.Name));

    public async Task RunAsync(CancellationToken stop)
    {
        if (schedules is not IScheduleChangeFeed feed)
        {
            await WorkerDuty.RunAsync("firing of schedules", RoundOnTimeAsync, outage, time, logger, stop).ConfigureAwait(false);
            return;
        }

        await WorkerDuty.RunWatchedAsync("firing of schedules", async (changed, token) =>
        {
            var watch = await feed.WatchScheduleChangesAsync(changed, token).ConfigureAwait(false);
            _idleSleep = feed.ScheduleSafetyLookInterval;
            return watch;
        }, RoundOnTimeAsync, outage, time, logger, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// A round that does not start before the time the last one asked to wake at. The system's
    /// timers count a coarse clock (4 ms steps on Linux), and about one wake in five ends up to
    /// that much before the fire time it aimed at: the round would find nothing due and read the
    /// schedules again at once, a round trip more before the fire. Such a wake sleeps the rest on
    /// its thread (a timer of a millisecond would take up to 4 ms more), and yields through the
    /// last part of a millisecond. A wake much earlier than that (the clock was set back) is not
    /// waited for.
    /// </summary>
    internal async Task<TimeSpan> RoundOnTimeAsync(CancellationToken token)
    {
        if (_wakeAt - time.GetUtcNow() is { Ticks: > 0 } early && early <= TimerSlack)
        {
            if (time != TimeProvider.System)
            {
                await Task.Delay(WholeMilliseconds(early), time, token).ConfigureAwait(false);
            }
            else
            {
                PreciseWaiter.BlockUntil(Stopwatch.GetTimestamp() + (long)(early.TotalSeconds * Stopwatch.Frequency));
            }
        }

        var sleep = await RoundAsync(token).ConfigureAwait(false);
        return time == TimeProvider.System && _wakeFires && sleep > TimerLead ? sleep - TimerLead : sleep;
    }

    /// <summary>One round: fires what is due and returns how long to sleep.</summary>
    internal async Task<TimeSpan> RoundAsync(CancellationToken token)
    {
        var all = await schedules.ListSchedulesAsync(token).ConfigureAwait(false);
        if (!_declaredStored || Declared.Any(t => !all.Any(s => s.Name == t.Name)))
        {
            // At start (a changed attribute becomes a new generation), and whenever the store lost one.
            await StoreDeclaredAsync(all, token).ConfigureAwait(false);
            _declaredStored = true;
            all = await schedules.ListSchedulesAsync(token).ConfigureAwait(false);
        }

        var now = time.GetUtcNow();
        lock (_backup)
        {
            if (_backup.Count > 0)
            {
                // Forgets the schedules that were removed.
                _backup.IntersectWith(all.Select(s => s.Name));
            }

            _firstOnTime = DateTimeOffset.MaxValue;
        }

        // Due schedules fire at once, not one after another: their enqueues share the store's
        // round trips (the Redis store sends concurrent enqueues of a slot in one script call; the
        // hold keeps it from sending the first alone and the rest one round trip later).
        var firing = new List<Task<DateTimeOffset?>>();
        var enqueued = new List<Task<Fired>>();
        using (StoreCallHold.Open())
        {
            FireAll(all, now, firing, enqueued, token);
        }

        // Then every schedule whose fires were enqueued moves on, together again; one whose
        // enqueue failed stays due, and its failure is thrown once the others have moved.
        await ((Task)Task.WhenAll(enqueued)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using (StoreCallHold.Open())
        {
            firing.AddRange(enqueued.Where(e => e.IsCompletedSuccessfully).Select(e => AdvanceAsync(e.Result, token)));
        }

        var upcoming = await Task.WhenAll(firing).ConfigureAwait(false);
        DateTimeOffset wake;
        lock (_backup)
        {
            // A worker that fires some schedules late keeps its idle reads off the fire times too
            // (a schedule of every second would bring them back to one).
            wake = now + _idleSleep + (_backup.Count > 0 ? BackupDelay : TimeSpan.Zero);
            foreach (var after in upcoming)
            {
                if (after is { } next && next < wake)
                {
                    wake = next;
                }
            }

            _wakeFires = wake == _firstOnTime;
        }

        await Task.WhenAll(enqueued).ConfigureAwait(false);
        _wakeAt = wake;
        var sleep = wake - time.GetUtcNow();
        return sleep > TimeSpan.Zero ? WholeMilliseconds(sleep) : TimeSpan.Zero;
    }

    /// <summary>Rounded up: a delay counts whole milliseconds, and one cut down would end before the fire time.</summary>
    private static TimeSpan WholeMilliseconds(TimeSpan span) => TimeSpan.FromMilliseconds(Math.Ceiling(span.TotalMilliseconds));

    /// <summary>
    /// Starts the enqueues of the due schedules (added to <paramref name="enqueued"/>) and the
    /// triggers (to <paramref name="firing"/>, with the next fire times of the others); awaits
    /// nothing, so that it runs inside a hold.
    /// </summary>
    private void FireAll(IReadOnlyList<StoredSchedule> all, DateTimeOffset now, List<Task<DateTimeOffset?>> firing, List<Task<Fired>> enqueued, CancellationToken token)
    {
        var awaited = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var schedule in all)
        {
            if (Servable(schedule) is not { } served)
            {
                continue;
            }

            if (schedule.TriggerRequestedAt is { } requested)
            {
                firing.Add(FireTriggerAsync(schedule, served.Definition, requested, token));
            }

            if (schedule.Paused || schedule.NextFireAt is not { } next)
            {
                continue;
            }

            if (_awaited.TryGetValue(schedule.Name, out var waited) && next > waited && schedule.LastFireAt >= waited)
            {
                // Another worker fired it and moved it on before this one read it: a round that
                // never races that one's compare-and-set would not learn it otherwise. A change or
                // a resume moves the next fire time but not the last, a trigger the last but not
                // the next.
                lock (_backup)
                {
                    _backup.Add(schedule.Name);
                }
            }

            if (next + Lag(schedule.Name) <= now)
            {
                enqueued.Add(FireDueAsync(schedule, served.Definition, served.Cron, next, now, token));
            }
            else
            {
                awaited[schedule.Name] = next;
                firing.Add(Task.FromResult<DateTimeOffset?>(LookAt(schedule.Name, next)));
            }
        }

        _awaited = awaited;
    }

    /// <summary>When this worker looks at the schedule for its fire time <paramref name="next"/>: <see cref="FireTimeHold.Lead"/> before it (kept as the first such of the round), or <see cref="BackupDelay"/> after it.</summary>
    private DateTimeOffset LookAt(string name, DateTimeOffset next)
    {
        lock (_backup)
        {
            if (_backup.Contains(name))
            {
                return next + BackupDelay;
            }

            return OnTime(next - FireTimeHold.Lead);
        }
    }

    /// <summary>
    /// How long after a fire time of the schedule this worker fires it: <see cref="FireTimeHold.Lead"/>
    /// before it (negative), or <see cref="BackupDelay"/> after it when another worker moved it last.
    /// </summary>
    private TimeSpan Lag(string name)
    {
        lock (_backup)
        {
            return _backup.Contains(name) ? BackupDelay : -FireTimeHold.Lead;
        }
    }

    private async Task StoreDeclaredAsync(IReadOnlyList<StoredSchedule> stored, CancellationToken token)
    {
        var now = time.GetUtcNow();

        // A task of this worker that was [Periodic] and is no longer: its schedule goes, as a
        // schedule removed from a beat configuration does (at start: a worker of the version before,
        // still running, stores it again once it sees it gone, until it stops).
        if (!_declaredStored)
        {
            foreach (var schedule in stored)
            {
                if (tasks.TryGetValue(schedule.Name, out var task) && task.Periodic is null && _queues.Contains(task.Queue)
                    && ScheduleDefinition.Of(schedule, out _) is { Declared: true } definition && definition.Task == schedule.Name
                    && await schedules.RemoveScheduleAsync(schedule.Name, token).ConfigureAwait(false))
                {
                    Log.PeriodicRemoved(logger, schedule.Name);
                }
            }
        }

        foreach (var task in Declared)
        {
            CronSchedule cron;
            try
            {
                cron = CronSchedule.Parse(task.Periodic!.Cron, task.Periodic.TimeZone);
            }
            catch (ArgumentException ex)
            {
                _invalidDeclared.Add(task.Name);
                Log.PeriodicInvalid(logger, task.Name, ex.Message);
                continue;
            }

            var definition = ScheduleDefinition.Of(task, task.Periodic).Encode();
            if (stored.FirstOrDefault(s => s.Name == task.Name) is { } existing && existing.Definition == definition)
            {
                continue;
            }

            await schedules.UpsertScheduleAsync(task.Name, definition, cron.Next(now), token).ConfigureAwait(false);
        }
    }

    /// <summary>The schedule's definition and fire times when this worker fires it; null when it is not for this worker or cannot be read.</summary>
    private (ScheduleDefinition Definition, CronSchedule Cron)? Servable(StoredSchedule schedule)
    {
        var definition = ScheduleDefinition.Of(schedule, out var problem);
        if (definition is null)
        {
            Broken(schedule, problem!);
            return null;
        }

        if (!_queues.Contains(definition.Queue))
        {
            return null;
        }

        if (!tasks.ContainsKey(definition.Task))
        {
            // Fired only by a worker that has the task (its options come from it): said once here,
            // so that a schedule no worker can fire is not a silent wait.
            Broken(schedule, $"its task {definition.Task} is not one of this worker's tasks, though it serves the schedule's queue {definition.Queue}; only a worker of that queue that has the task fires it");
            return null;
        }

        if (_parsed.TryGetValue(schedule.Name, out var parsed) && parsed.Definition == schedule.Definition)
        {
            return (definition, parsed.Cron);
        }

        try
        {
            var cron = CronSchedule.Parse(definition.Cron, definition.TimeZone);
            _parsed[schedule.Name] = (schedule.Definition, cron);
            return (definition, cron);
        }
        catch (ArgumentException ex)
        {
            Broken(schedule, ex.Message);
            return null;
        }
    }

    /// <summary>Says once per schedule generation why it cannot be fired here.</summary>
    private void Broken(StoredSchedule schedule, string problem)
    {
        if (_broken.Add($"{schedule.Name}\n{schedule.Generation}"))
        {
            Log.ScheduleBroken(logger, schedule.Name, problem);
        }
    }

    /// <summary>Enqueues the due fire times; returns how the schedule is to move on.</summary>
    private async Task<Fired> FireDueAsync(StoredSchedule schedule, ScheduleDefinition definition, CronSchedule cron, DateTimeOffset next, DateTimeOffset now, CancellationToken token)
    {
        // Fire times up to a lead ahead are enqueued now; the worker that fetches one holds it until its time.
        var plan = FirePlan.For(cron, next, now, definition.Misfire, ScheduleOptions.MisfireThreshold, FireTimeHold.Lead);
        if (definition.Misfire != MisfirePolicy.RunAll && next < now - ScheduleOptions.MisfireThreshold)
        {
            Log.ScheduleMissed(logger, schedule.Name, next, now - ScheduleOptions.MisfireThreshold, definition.Misfire);
        }

        var previous = schedule.LastTaskId;
        DateTimeOffset? lastFire = null;
        string? lastTask = null;
        foreach (var at in plan.Fire)
        {
            if (definition.Overlap == OverlapPolicy.Skip && previous is not null && !await IsFinalAsync(previous, token).ConfigureAwait(false))
            {
                if (at > now)
                {
                    // Not come yet: whether the run before it is over is for its own time to say,
                    // not a lead early (that run may be the one just enqueued): the schedule moves
                    // to it, and this worker looks at it again then.
                    return new Fired(schedule, next, at, lastFire, lastTask, Deferred: true);
                }

                // The last run stays the one still running: the next fire time checks it again
                // (a skip listed as the last run would let that one overlap it).
                Log.ScheduleOverlapSkipped(logger, schedule.Name, at, previous);
                continue;
            }

            var id = await EnqueueAsync(definition, FireIds.Fire(schedule.Name, schedule.Generation, at), at, token).ConfigureAwait(false);
            Log.ScheduleFired(logger, schedule.Name, at, id);
            (lastFire, lastTask, previous) = (at, id, id);
        }

        return new Fired(schedule, next, plan.Next, lastFire, lastTask);
    }

    /// <summary>
    /// Moves a schedule on, only after every enqueue of its due fires succeeded; another worker
    /// may have moved it first, having enqueued the same ids: that one fires it next, and this one
    /// looks <see cref="BackupDelay"/> later. Returns when this worker looks at it next.
    /// </summary>
    private async Task<DateTimeOffset?> AdvanceAsync(Fired fired, CancellationToken token)
    {
        var schedule = fired.Schedule;
        var moved = await schedules.AdvanceAsync(schedule.Name, schedule.Generation, fired.Expected, fired.Next, fired.LastFire, fired.LastTask, token).ConfigureAwait(false);
        lock (_backup)
        {
            _ = moved ? _backup.Remove(schedule.Name) : _backup.Add(schedule.Name);
        }

        if (fired.Deferred && moved)
        {
            return OnTime(fired.Next!.Value);
        }

        return fired.Next is { } next ? LookAt(schedule.Name, next) : null;
    }

    /// <summary>A round this worker runs on time, at <paramref name="at"/>: kept as the first such of the round.</summary>
    private DateTimeOffset OnTime(DateTimeOffset at)
    {
        lock (_backup)
        {
            if (at < _firstOnTime)
            {
                _firstOnTime = at;
            }

            return at;
        }
    }

    /// <summary>Enqueues the run a trigger asked for, then clears the request; returns null (it sets no wake time).</summary>
    private async Task<DateTimeOffset?> FireTriggerAsync(StoredSchedule schedule, ScheduleDefinition definition, DateTimeOffset requestedAt, CancellationToken token)
    {
        var id = await EnqueueAsync(definition, FireIds.Trigger(schedule.Name, schedule.Generation, requestedAt), requestedAt, token).ConfigureAwait(false);
        await schedules.CompleteTriggerAsync(schedule.Name, requestedAt, id, token).ConfigureAwait(false);
        Log.ScheduleFired(logger, schedule.Name, requestedAt, id);
        return null;
    }

    private ValueTask<string> EnqueueAsync(ScheduleDefinition definition, string fireId, DateTimeOffset at, CancellationToken token)
    {
        var call = TaskCall.Bind(tasks[definition.Task], definition.Arguments, client);
        var options = new EnqueueOptions
        {
            TaskId = fireId,
            Queue = definition.Queue,
            Priority = definition.Priority,
            ExpiresAt = definition.Expires is { } expires ? at + expires : null,
        };
        return client.SendCallAsync(call, options, new CallMarks(ScheduledFor: at), token);
    }

    private async Task<bool> IsFinalAsync(string id, CancellationToken token)
    {
        try
        {
            return (await client.Store.GetAsync(id, token).ConfigureAwait(false))?.State.IsFinal() ?? true;
        }
        catch (TaskNotFoundException)
        {
            return true; // lost with a store that restarted empty: not running
        }
    }

    /// <summary>
    /// A schedule whose due fires were enqueued: the next fire time it expected, the one it moves
    /// to, its last run, and whether that next one waits for its own time to be decided (its
    /// overlap with a run not final yet).
    /// </summary>
    private readonly record struct Fired(StoredSchedule Schedule, DateTimeOffset Expected, DateTimeOffset? Next, DateTimeOffset? LastFire, string? LastTask, bool Deferred = false);
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Scheduling;

/// <summary>
/// <see cref="ITaskSchedules"/> over the host's store, which must keep schedules
/// (<see cref="IScheduleStore"/>: the in-memory and Redis stores do).
/// </summary>
internal sealed class TaskSchedules(ITaskStore store, TimeProvider time, IReadOnlyDictionary<string, TaskDescriptor>? declared = null) : ITaskSchedules
{
    /// <summary>The longest schedule name; it is part of each fire's task id.</summary>
    public const int MaxNameLength = 200;

    private const int UpcomingCount = 5;

    private IScheduleStore Schedules => store as IScheduleStore
        ?? throw new NotSupportedException($"The task store {store.GetType().Name} keeps no schedules (it does not implement IScheduleStore). Use the in-memory or Redis store.");

    public async Task<ScheduleInfo> UpsertAsync(string name, TaskCall call, string cron, TimeZoneInfo? timeZone = null, ScheduleOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(call);
        var zone = timeZone ?? TimeZoneInfo.Utc;
        var zoneId = zone == TimeZoneInfo.Utc ? PeriodicSpec.Utc : zone.Id;
        TimeZoneInfo found;
        try
        {
            found = CronSchedule.FindZone(zoneId);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException(CronSchedule.UnknownZone(zoneId) + " A schedule keeps its zone by id, so that every worker finds it: a TimeZoneInfo made in code is not found by one. Nothing was stored.", nameof(timeZone), ex);
        }

        var schedule = CronSchedule.Parse(cron, found);
        var queue = CheckCallOptions(call);
        options ??= new ScheduleOptions();
        var definition = new ScheduleDefinition(
            call.Task.Name, queue, call.Arguments.ToArray(), call.Options?.Priority ?? 0, call.Options?.Expires ?? call.Task.Expires,
            schedule.Text, zoneId, options.Misfire, options.Overlap, Declared: false);

        // Declared here or stored as declared (by a worker of another application): a worker that
        // declares it would otherwise replace this schedule at its start, without a word.
        var schedules = Schedules;
        if (declared?.TryGetValue(name, out var task) == true && task.Periodic is not null
            || await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) is { } existing
            && ScheduleDefinition.Decode(existing.Definition, out _) is { Declared: true })
        {
            throw new ArgumentException($"The schedule '{name}' is the schedule of the [Periodic] task of that name; change its attribute, or give this schedule another name. Nothing was stored.", nameof(name));
        }

        var stored = await schedules.UpsertScheduleAsync(name, definition.Encode(), schedule.Next(time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        return await DescribeAsync(stored, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await Schedules.RemoveScheduleAsync(name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ScheduleInfo?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (await Schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return await DescribeAsync(stored, cancellationToken).ConfigureAwait(false);
        }

        return declared?.TryGetValue(name, out var task) == true && task.Periodic is { } spec ? DescribeUnstored(task, spec) : null;
    }

    public async Task<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var stored = await Schedules.ListSchedulesAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<ScheduleInfo>(stored.Count);
        foreach (var schedule in stored)
        {
            list.Add(await DescribeAsync(schedule, cancellationToken).ConfigureAwait(false));
        }

        // This application's [Periodic] tasks that no worker has stored yet.
        var names = stored.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var task in declared?.Values ?? [])
        {
            if (task.Periodic is { } spec && !names.Contains(task.Name))
            {
                list.Add(DescribeUnstored(task, spec));
            }
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    public async Task<bool> TriggerAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var schedules = Schedules;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        return await schedules.RequestTriggerAsync(name, at, cancellationToken).ConfigureAwait(false)
            || await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) is { TriggerRequestedAt: not null };
    }

    public async Task<bool> PauseAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await Schedules.SetPausedAsync(name, true, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ResumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var schedules = Schedules;
        if (await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            return false;
        }

        var definition = ScheduleDefinition.Of(stored, out var problem)
            ?? throw new InvalidOperationException($"The schedule '{name}' cannot be resumed: {problem}. Upsert it again.");
        CronSchedule cron;
        try
        {
            cron = CronSchedule.Parse(definition.Cron, definition.TimeZone);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The schedule '{name}' cannot be resumed: {ex.Message} Upsert it again.", ex);
        }

        var next = ResumedAt(cron, stored.LastFireAt);
        return await schedules.SetPausedAsync(name, false, next, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The first fire time of a schedule resumed now: after now (the times that passed while paused are skipped) and after its last fire.</summary>
    private DateTimeOffset? ResumedAt(CronSchedule cron, DateTimeOffset? lastFireAt)
    {
        var now = time.GetUtcNow();
        return cron.Next(lastFireAt is { } last && last > now ? last : now);
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="name"/> cannot name a schedule.</summary>
    public static void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsWhiteSpace) || name.Any(char.IsControl))
        {
            throw new ArgumentException($"A schedule name is 1 to {MaxNameLength} characters without white space, such as \"report-42\"; got \"{name}\". Nothing was stored.", nameof(name));
        }
    }

    /// <summary>The queue of the call's fires; throws for options that mean nothing for a schedule.</summary>
    private static string CheckCallOptions(TaskCall call)
    {
        var options = call.Options;
        if (options is { TaskId: not null } or { Eta: not null } or { Delay: not null } or { ExpiresAt: not null })
        {
            throw new ArgumentException("A scheduled call takes the Queue, Priority and Expires options only: each fire gets its own task id and runs at its fire time, so TaskId, Eta, Delay and ExpiresAt mean nothing for it. Nothing was stored.", nameof(call));
        }

        var queue = options?.Queue ?? call.Task.Queue;
        if (QueueName.Problem(queue) is { } problem)
        {
            throw new ArgumentException($"EnqueueOptions.Queue: {problem}. Nothing was stored.", nameof(call));
        }

        if (options?.Priority is < 0 or > TaskDefaults.MaxPriority)
        {
            throw new ArgumentOutOfRangeException(nameof(call), options.Priority, $"EnqueueOptions.Priority must be from 0 to {TaskDefaults.MaxPriority}. Nothing was stored.");
        }

        return queue;
    }

    private async Task<ScheduleInfo> DescribeAsync(StoredSchedule stored, CancellationToken cancellationToken)
    {
        var definition = ScheduleDefinition.Of(stored, out var problem);
        string? cronProblem = null;
        CronSchedule? cron = null;
        if (definition is not null)
        {
            try
            {
                cron = CronSchedule.Parse(definition.Cron, definition.TimeZone);
            }
            catch (ArgumentException ex)
            {
                cronProblem = ex.Message;
            }
        }

        TaskState? lastState = null;
        if (stored.LastTaskId is { } lastId)
        {
            try
            {
                lastState = (await store.GetAsync(lastId, cancellationToken).ConfigureAwait(false))?.State;
            }
            catch (TaskNotFoundException)
            {
                // Lost with a store that restarted empty: unknown.
            }
        }

        // Paused: the times it would fire if resumed now (resuming skips those that passed).
        var upcoming = new List<DateTimeOffset>();
        var nextAt = stored.Paused && cron is not null ? ResumedAt(cron, stored.LastFireAt) : stored.NextFireAt;
        if (nextAt is { } next)
        {
            upcoming.Add(next.ToUniversalTime());
            if (cron is not null)
            {
                upcoming.AddRange(cron.Upcoming(next, UpcomingCount - 1).Select(t => t.ToUniversalTime()));
            }
        }

        return new ScheduleInfo
        {
            Name = stored.Name,
            TaskName = definition?.Task ?? "?",
            Queue = definition?.Queue ?? "?",
            Cron = definition?.Cron ?? "?",
            TimeZone = definition?.TimeZone ?? "?",
            Misfire = definition?.Misfire ?? default,
            Overlap = definition?.Overlap ?? default,
            Declared = definition?.Declared ?? false,
            Paused = stored.Paused,
            Generation = stored.Generation,
            NextFireAt = nextAt?.ToUniversalTime(),
            NextFireTimes = upcoming,
            LastFireAt = stored.LastFireAt?.ToUniversalTime(),
            LastTaskId = stored.LastTaskId,
            LastState = lastState,
            TriggerPending = stored.TriggerRequestedAt is not null,
            Problem = problem ?? cronProblem,
        };
    }

    private ScheduleInfo DescribeUnstored(TaskDescriptor task, PeriodicSpec spec)
    {
        string? problem = null;
        IReadOnlyList<DateTimeOffset> upcoming = [];
        try
        {
            upcoming = [.. CronSchedule.Parse(spec.Cron, spec.TimeZone).Upcoming(time.GetUtcNow(), UpcomingCount).Select(t => t.ToUniversalTime())];
        }
        catch (ArgumentException ex)
        {
            problem = ex.Message;
        }

        return new ScheduleInfo
        {
            Name = task.Name,
            TaskName = task.Name,
            Queue = task.Queue,
            Cron = spec.Cron,
            TimeZone = spec.TimeZone,
            Misfire = spec.Misfire,
            Overlap = spec.Overlap,
            Declared = true,
            Stored = false,
            NextFireAt = upcoming.Count > 0 ? upcoming[0] : null,
            NextFireTimes = upcoming,
            Problem = problem,
        };
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Worker;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// Several workers' schedule firing on one store, without the rest of the workers: each has its
/// own clock, and a round is run when the test says, so that tests decide what time it is.
/// </summary>
public sealed class Firers
{
    private readonly PeriodicScheduler[] _schedulers;

    /// <param name="store">The store, which must keep schedules.</param>
    /// <param name="clocks">One clock per worker (the same one for all, or clocks a little apart).</param>
    /// <param name="tasks">The tasks the workers know.</param>
    /// <param name="queues">The queues they serve.</param>
    public Firers(ITaskStore store, IReadOnlyList<TimeProvider> clocks, IEnumerable<TaskDescriptor> tasks, params string[] queues)
    {
        var table = tasks.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _schedulers = [.. clocks.Select(clock => new PeriodicScheduler(
            new TaskClient(store, clock),
            (IScheduleStore)store,
            queues,
            table,
            new StoreOutage(NullLogger.Instance, clock),
            clock,
            NullLogger.Instance))];
    }

    /// <summary>A descriptor of a task that is only enqueued here, never run.</summary>
    public static TaskDescriptor Task(string name, string queue, PeriodicSpec? periodic = null)
        => new(name, queue, 0, null, null, null, _ => throw new InvalidOperationException("Tasks of the firing tests are enqueued, never run."))
        {
            Periodic = periodic,
        };

    /// <summary>One round of every worker at once; returns the sleeps they asked for.</summary>
    public async Task<TimeSpan[]> RoundAsync() => await System.Threading.Tasks.Task.WhenAll(_schedulers.Select(s => s.RoundAsync(CancellationToken.None)));

    /// <summary>One round of worker <paramref name="index"/>.</summary>
    public Task<TimeSpan> RoundAsync(int index) => _schedulers[index].RoundAsync(CancellationToken.None);

    /// <summary>One round of worker <paramref name="index"/> as its loop runs it: not before the time the last one asked to wake at.</summary>
    public Task<TimeSpan> RoundOnTimeAsync(int index) => _schedulers[index].RoundOnTimeAsync(CancellationToken.None);

    /// <summary>The fire times (<see cref="TaskContext.ScheduledFor"/>) of the pending tasks of <paramref name="queue"/>, with their ids, oldest first.</summary>
    public static async Task<List<(DateTimeOffset ScheduledFor, string Id)>> FiredAsync(ITaskStore store, string queue)
    {
        var pending = await store.ListAsync(queue, TaskState.Pending, 0, 100_000);
        return [.. pending
            .Select(t => (TaskEnvelope.Read(t.Envelope).ScheduledFor ?? throw new InvalidOperationException($"Task {t.Info.Id} has no fire time."), t.Info.Id))
            .OrderBy(f => f.Item1)];
    }
}

using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Worker;

/// <summary>
/// The one rule that keeps a run from starting before its fire time: a task whose
/// <c>ScheduledFor</c> is later than now, by this worker's clock, is held (it stays leased, in its
/// executor's slot, its lease renewed) and starts at that time. Schedules are fired
/// <see cref="Lead"/> ahead of their fire times so that the read, the enqueue and the fetch are
/// done by then; a hold is never longer than that lead, so that a fire time further ahead (a clock
/// far off from the firing worker's) is waited for that long and no longer. On the system clock
/// the wait ends on the worker's <see cref="PreciseWaiter"/>; on any other clock (a fake one in
/// tests) it follows that clock.
/// </summary>
internal sealed class FireTimeHold(TimeProvider time)
{
    /// <summary>
    /// How long before a fire time the worker that fires it on time runs its round, and the longest
    /// a fetched run is held for its fire time. It covers the round and the fetch at their p99 under
    /// load on the development machine (a few to about 30 ms, docs/schedules.md, "Figures").
    /// </summary>
    public static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(50);

    private readonly PreciseWaiter? _waiter = time == TimeProvider.System ? new PreciseWaiter() : null;

    /// <summary>Completes once <paramref name="scheduledFor"/> has come (at once when it has, or is null), and no later than <see cref="Lead"/> from now.</summary>
    public ValueTask WaitAsync(DateTimeOffset? scheduledFor, CancellationToken token)
    {
        if (scheduledFor is not { } at)
        {
            return ValueTask.CompletedTask;
        }

        var early = at - time.GetUtcNow();
        if (early <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        if (early > Lead)
        {
            early = Lead;
        }

        if (_waiter is null)
        {
            return new ValueTask(DelayAsync(early, token));
        }

        return new ValueTask(_waiter.WaitUntilAsync(Stopwatch.GetTimestamp() + (long)(early.TotalSeconds * Stopwatch.Frequency), token));
    }

    /// <summary>
    /// On another clock, a delay rounded up to whole milliseconds (a timer may cut a fraction off,
    /// and end before the fire time), whose continuation goes to the thread pool, never runs inside
    /// the call that moves that clock.
    /// </summary>
    private async Task DelayAsync(TimeSpan early, CancellationToken token)
        => await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(early.TotalMilliseconds)), time, token).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
}

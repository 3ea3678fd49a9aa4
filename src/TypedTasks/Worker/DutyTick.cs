using System;

namespace TypedTasks.Worker;

/// <summary>
/// The one-second grid an idle worker's periodic duties wake on (heartbeat, recovery, promotion,
/// metrics): a sleep of a second or more ends on the last tick before it would have ended, so
/// that duties of different intervals wake in the same instant, one wake-up of the process
/// instead of one each at phases of their own. A sleep is never lengthened (but by a wake that
/// came a few milliseconds before its tick, which sleeps to the tick after), only ended up to a
/// step early. Each process has a phase of its own, so that the workers of an installation do
/// not call the store all in the same instant.
/// </summary>
internal static class DutyTick
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    /// <summary>A tick closer than this is one the timer ended a little before: the next one is taken.</summary>
    private static readonly TimeSpan NearMiss = TimeSpan.FromMilliseconds(50);

    private static readonly long PhaseTicks = Random.Shared.NextInt64(Step.Ticks);

    /// <summary>
    /// How long to sleep, at <paramref name="now"/>, to wake on the last tick at or before
    /// <paramref name="now"/> + <paramref name="wait"/>; a wait shorter than a step (a due time)
    /// is kept as it is.
    /// </summary>
    public static TimeSpan Align(DateTimeOffset now, TimeSpan wait)
    {
        if (wait < Step)
        {
            return wait;
        }

        var end = now.UtcTicks + wait.Ticks - PhaseTicks;
        var tick = end - (end % Step.Ticks) + PhaseTicks;
        if (tick - now.UtcTicks < NearMiss.Ticks)
        {
            tick += Step.Ticks;
        }

        // Whole milliseconds, rounded up: a delay cut down would end before the tick.
        return TimeSpan.FromMilliseconds(Math.Ceiling(TimeSpan.FromTicks(tick - now.UtcTicks).TotalMilliseconds));
    }
}

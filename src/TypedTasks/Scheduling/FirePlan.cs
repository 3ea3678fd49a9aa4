using System;
using System.Collections.Generic;

namespace TypedTasks.Scheduling;

/// <summary>
/// Which fire times of a due schedule to enqueue now, and where the schedule goes next. Fire times
/// no more than the misfire threshold in the past are on time and always run; older ones are missed
/// and follow the <see cref="MisfirePolicy"/>.
/// </summary>
/// <param name="Fire">The fire times to enqueue, oldest first.</param>
/// <param name="Next">The schedule's next fire time once these are enqueued (may still be due when a round was capped), or null for none.</param>
internal sealed record FirePlan(IReadOnlyList<DateTimeOffset> Fire, DateTimeOffset? Next)
{
    /// <summary>The most fire times one round enqueues for one schedule; the rest follow in the next round.</summary>
    public const int MaxPerRound = 100;

    /// <param name="cron">The schedule's fire times.</param>
    /// <param name="next">Its next fire time, as stored.</param>
    /// <param name="now">The time of the round: fire times more than <paramref name="threshold"/> before it were missed.</param>
    /// <param name="misfire">What runs of the missed ones.</param>
    /// <param name="threshold">How late a fire time still runs as usual.</param>
    /// <param name="ahead">How far past <paramref name="now"/> fire times are enqueued too (their runs wait for them).</param>
    public static FirePlan For(CronSchedule cron, DateTimeOffset next, DateTimeOffset now, MisfirePolicy misfire, TimeSpan threshold, TimeSpan ahead)
    {
        var fire = new List<DateTimeOffset>();
        var until = now + ahead;
        if (next > until)
        {
            return new FirePlan(fire, next);
        }

        var onTimeFrom = now - threshold;
        if (misfire == MisfirePolicy.RunAll || next >= onTimeFrom)
        {
            // Everything from the next fire time on, a round at a time.
            DateTimeOffset? at = next;
            while (at is { } t && t <= until && fire.Count < MaxPerRound)
            {
                fire.Add(t);
                at = cron.Next(t);
            }

            return new FirePlan(fire, at);
        }

        // Some fire times were missed: the on-time ones run; of the missed, the latest runs when
        // the policy is RunOnce and no on-time one does.
        for (var at = cron.NextOrAt(onTimeFrom); at is { } t && t <= until && fire.Count < MaxPerRound; at = cron.Next(t))
        {
            fire.Add(t);
        }

        if (fire.Count == 0 && misfire == MisfirePolicy.RunOnce && cron.Latest(next, onTimeFrom) is { } latest)
        {
            fire.Add(latest);
        }

        return new FirePlan(fire, fire.Count == MaxPerRound ? cron.Next(fire[^1]) : cron.Next(until));
    }
}

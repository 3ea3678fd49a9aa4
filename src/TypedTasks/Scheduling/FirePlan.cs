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

    public static FirePlan For(CronSchedule cron, DateTimeOffset next, DateTimeOffset now, MisfirePolicy misfire, TimeSpan threshold)
    {
        var fire = new List<DateTimeOffset>();
        if (next > now)
        {
            return new FirePlan(fire, next);
        }

        var onTimeFrom = now - threshold;
        if (misfire == MisfirePolicy.RunAll || next >= onTimeFrom)
        {
            // Everything from the next fire time on, a round at a time.
            DateTimeOffset? at = next;
            while (at is { } t && t <= now && fire.Count < MaxPerRound)
            {
                fire.Add(t);
                at = cron.Next(t);
            }

            return new FirePlan(fire, at);
        }

        // Some fire times were missed: the on-time ones run; of the missed, the latest runs when
        // the policy is RunOnce and no on-time one does.
        for (var at = cron.NextOrAt(onTimeFrom); at is { } t && t <= now && fire.Count < MaxPerRound; at = cron.Next(t))
        {
            fire.Add(t);
        }

        if (fire.Count == 0 && misfire == MisfirePolicy.RunOnce && cron.Latest(next, onTimeFrom) is { } latest)
        {
            fire.Add(latest);
        }

        return new FirePlan(fire, fire.Count == MaxPerRound ? cron.Next(fire[^1]) : cron.Next(now));
    }
}

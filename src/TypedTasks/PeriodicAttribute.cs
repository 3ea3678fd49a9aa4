using System;

namespace TypedTasks;

/// <summary>
/// Runs a task on a cron schedule, with no leader: every worker serving the task's queue may fire
/// it, and each fire time is enqueued exactly once. The task's parameters may only be a
/// <see cref="TaskContext"/> (its <see cref="TaskContext.ScheduledFor"/> is the fire time) and a
/// <see cref="System.Threading.CancellationToken"/>. The generator checks the expression and the
/// parameters at compile time.
/// </summary>
/// <remarks>
/// The expression has 5 fields (minute, hour, day of month, month, day of week) or 6 with seconds
/// first, with ranges, steps, lists, month and day names, <c>L</c>, <c>W</c>, <c>#</c>, <c>?</c>
/// and the macros <c>@hourly</c>, <c>@daily</c> and the like (Cronos syntax). Fire times follow
/// <see cref="TimeZone"/>: a fire time in a spring-forward gap runs at the first valid time after
/// it, and a daily fire time in a fall-back hour runs once.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class PeriodicAttribute : Attribute
{
    /// <summary>Runs the task at the fire times of <paramref name="cron"/>.</summary>
    /// <param name="cron">A cron expression such as <c>"0 3 * * *"</c> (03:00 daily) or <c>"*/10 * * * * *"</c> (every 10 seconds).</param>
    public PeriodicAttribute(string cron) => Cron = cron;

    /// <summary>The cron expression.</summary>
    public string Cron { get; }

    /// <summary>The IANA time zone the expression is read in, such as <c>"Europe/Berlin"</c>. Default <c>"UTC"</c>.</summary>
    public string TimeZone { get; set; } = PeriodicSpec.Utc;

    /// <summary>What to do with fire times missed while no worker ran. Default <see cref="MisfirePolicy.RunOnce"/>.</summary>
    public MisfirePolicy Misfire { get; set; }

    /// <summary>What to do at a fire time while the previous run is not final. Default <see cref="OverlapPolicy.Allow"/>.</summary>
    public OverlapPolicy Overlap { get; set; }
}

using System;
using System.ComponentModel;

namespace TypedTasks;

/// <summary>
/// The schedule of a <see cref="PeriodicAttribute"/> task, as the generator read it: carried by
/// <see cref="TaskDescriptor.Periodic"/> to the workers, which keep it in the store under the
/// task's name.
/// </summary>
public sealed class PeriodicSpec
{
    /// <summary>The zone used when none is named.</summary>
    public const string Utc = "UTC";

    /// <summary>Creates a spec; called by generated code.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public PeriodicSpec(string cron, string timeZone, MisfirePolicy misfire, OverlapPolicy overlap)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        ArgumentException.ThrowIfNullOrWhiteSpace(timeZone);
        Cron = cron;
        TimeZone = timeZone;
        Misfire = misfire;
        Overlap = overlap;
    }

    /// <summary>The cron expression (Cronos syntax, 5 or 6 fields).</summary>
    public string Cron { get; }

    /// <summary>The IANA time zone id the expression is read in.</summary>
    public string TimeZone { get; }

    /// <summary>What to do with missed fire times.</summary>
    public MisfirePolicy Misfire { get; }

    /// <summary>What to do at a fire time while the previous run is not final.</summary>
    public OverlapPolicy Overlap { get; }

    /// <inheritdoc/>
    public override string ToString() => TimeZone == Utc ? Cron : $"{Cron} ({TimeZone})";
}

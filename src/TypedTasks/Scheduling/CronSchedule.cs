using System;
using System.Collections.Generic;
using Cronos;

namespace TypedTasks.Scheduling;

/// <summary>
/// A cron expression read in its time zone (Cronos): the fire times of a schedule. A fire time in a
/// spring-forward gap moves to the first valid time after it; a fire time in a fall-back hour is
/// taken once for a fixed hour and at each of its instants for an interval such as every 15 minutes.
/// </summary>
internal sealed class CronSchedule
{
    private readonly CronExpression _expression;

    private CronSchedule(string text, CronExpression expression, TimeZoneInfo zone)
    {
        Text = text;
        _expression = expression;
        Zone = zone;
    }

    public string Text { get; }

    public TimeZoneInfo Zone { get; }

    /// <summary>Reads <paramref name="cron"/> in <paramref name="zoneId"/>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static CronSchedule Parse(string cron, string zoneId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        var zone = FindZone(zoneId);
        return Parse(cron, zone);
    }

    /// <summary>Reads <paramref name="cron"/> in <paramref name="zone"/>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static CronSchedule Parse(string cron, TimeZoneInfo zone)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        ArgumentNullException.ThrowIfNull(zone);
        var text = cron.Trim();
        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            return new CronSchedule(text, CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard), zone);
        }
        catch (CronFormatException ex)
        {
            throw new ArgumentException($"The cron expression \"{cron}\" is not valid: {ex.Message} Write 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, such as \"0 3 * * *\" for 03:00 daily.", nameof(cron), ex);
        }
    }

    /// <summary>The zone of an IANA id (or a Windows id where the system maps it); throws <see cref="ArgumentException"/> when the machine does not know it.</summary>
    public static TimeZoneInfo FindZone(string zoneId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(zoneId);
        if (zoneId is "UTC" or "Etc/UTC")
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException(UnknownZone(zoneId), nameof(zoneId), ex);
        }
    }

    /// <summary>What is wrong with a zone id this machine does not know.</summary>
    public static string UnknownZone(string zoneId)
        => $"The time zone \"{zoneId}\" is not known on this machine. Use an IANA zone id such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\".";

    /// <summary>The first fire time strictly after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => _expression.GetNextOccurrence(after, Zone, inclusive: false);

    /// <summary>The first fire time at or after <paramref name="from"/>, or null when there is none.</summary>
    public DateTimeOffset? NextOrAt(DateTimeOffset from) => _expression.GetNextOccurrence(from, Zone, inclusive: true);

    /// <summary>Up to <paramref name="count"/> fire times strictly after <paramref name="after"/>.</summary>
    public IReadOnlyList<DateTimeOffset> Upcoming(DateTimeOffset after, int count)
    {
        var times = new List<DateTimeOffset>(count);
        var at = after;
        while (times.Count < count && Next(at) is { } next)
        {
            times.Add(next);
            at = next;
        }

        return times;
    }

    /// <summary>
    /// The last fire time at or before <paramref name="until"/> and at or after <paramref name="from"/>,
    /// or null: looked for in windows that double back from <paramref name="until"/>, so that a
    /// schedule of every second after a day's downtime does not walk the whole day.
    /// </summary>
    public DateTimeOffset? Latest(DateTimeOffset from, DateTimeOffset until)
    {
        var window = TimeSpan.FromSeconds(2);
        while (true)
        {
            var start = until - window < from ? from : until - window;
            DateTimeOffset? last = null;
            for (var at = NextOrAt(start); at is { } t && t <= until; at = Next(t))
            {
                last = t;
            }

            if (last is not null || start == from)
            {
                return last;
            }

            window += window;
        }
    }
}

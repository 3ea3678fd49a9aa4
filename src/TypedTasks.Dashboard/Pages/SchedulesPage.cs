using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Scheduling;

namespace TypedTasks.Dashboard.Pages;

/// <summary>Every schedule: its cron and zone, next fire times in that zone and in UTC, its last run, and pause, resume and trigger.</summary>
internal static class SchedulesPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, Func<CancellationToken, Task<IReadOnlyList<ScheduleInfo>>> list, CancellationToken ct)
    {
        IReadOnlyList<ScheduleInfo> schedules;
        try
        {
            schedules = await list(ct).ConfigureAwait(false);
        }
        catch (NotSupportedException unsupported)
        {
            return Layout.Page(ctx, "Schedules", "schedules", h => h.Raw("<p class=\"error\">").Text("This task store keeps no schedules: " + unsupported.Message).Raw("</p>"));
        }

        return Layout.Page(ctx, "Schedules", "schedules", h =>
        {
            if (schedules.Count == 0)
            {
                h.Raw("<p class=\"empty\">No schedule: declare one with [Periodic] on a task, or make one with ITaskSchedules.UpsertAsync.</p>");
                return;
            }

            h.Raw("<table class=\"schedules\"><thead><tr><th>Schedule</th><th>Cron</th><th>Next fire times</th><th>Last run</th><th>Status</th><th></th></tr></thead><tbody>");
            foreach (var s in schedules)
            {
                Row(h, ctx, s);
            }

            h.Raw("</tbody></table>");
        });
    }

    private static void Row(Html h, DashboardContext ctx, ScheduleInfo s)
    {
        var zone = FindZone(s.TimeZone);
        h.Raw("<tr data-schedule=\"").Text(s.Name).Raw("\"><td><strong>").Text(s.Name).Raw("</strong><br><span class=\"hint\">").Text(s.TaskName).Raw(" in </span><a href=\"")
            .Text(ctx.Link("queue?name=" + Html.Url(s.Queue))).Raw("\">").Text(s.Queue).Raw("</a>");
        if (s.Declared)
        {
            h.Raw(" <span class=\"tag\">[Periodic]</span>");
        }

        h.Raw("</td><td><code>").Text(s.Cron).Raw("</code><br><span class=\"hint zone\">").Text(s.TimeZone).Raw("</span></td><td><ol class=\"fires\">");
        foreach (var fire in s.NextFireTimes)
        {
            h.Raw("<li>");
            if (zone is not null)
            {
                h.Raw("<span class=\"local\">").Text(TimeZoneInfo.ConvertTime(fire, zone).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture)).Raw("</span> <span class=\"hint\">");
            }

            h.Time(fire).Raw(zone is null ? string.Empty : "</span>").Raw("</li>");
        }

        if (s.NextFireTimes.Count == 0)
        {
            h.Raw("<li class=\"hint\">none: the expression has no more fire times</li>");
        }

        h.Raw("</ol></td><td class=\"last\">");
        if (s.LastFireAt is null)
        {
            h.Raw("<span class=\"hint\">never</span>");
        }
        else
        {
            h.Time(s.LastFireAt).Raw("<br>");
            if (s.LastTaskId is { } last)
            {
                var state = s.LastState;
                h.Raw("<a href=\"").Text(ctx.Link("task?id=" + Html.Url(last))).Raw("\">").Text(last).Raw("</a> <span class=\"state ")
                    .Raw(state is { } known ? StateNames.Css(known) : "unknown").Raw("\">").Text(state?.ToString() ?? "expired").Raw("</span>");
            }
            else
            {
                h.Raw("<span class=\"hint\">skipped: the run before it had not ended</span>");
            }
        }

        h.Raw("</td><td class=\"status\">");
        if (!s.Stored)
        {
            h.Raw("<span class=\"hint\">not stored yet: no worker serving its queue has started</span>");
        }
        else
        {
            h.Raw(s.Paused ? "<span class=\"paused\">paused</span>" : "<span class=\"active\">active</span>");
        }

        if (s.TriggerPending)
        {
            h.Raw("<br><span class=\"hint\">a triggered run waits for a worker</span>");
        }

        if (s.Problem is not null)
        {
            h.Raw("<br><span class=\"error\">").Text(s.Problem).Raw("</span>");
        }

        h.Raw("</td><td class=\"actions\">");
        if (s.Stored)
        {
            Layout.Form(h, ctx, s.Paused ? "schedule-resume" : "schedule-pause", s.Paused ? "Resume" : "Pause", "warn", ("name", s.Name));
            Layout.Form(h, ctx, "schedule-trigger", "Trigger", "primary", ("name", s.Name));
        }

        h.Raw("</td></tr>");
    }

    /// <summary>The schedule's zone, or null when this machine does not know it (its times are then shown in UTC only).</summary>
    private static TimeZoneInfo? FindZone(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            return null;
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;
using TypedTasks.Store;

namespace TypedTasks.Dashboard.Pages;

/// <summary>
/// The rate and concurrency limits of one queue in use and its unique locks; the tasks one limit
/// holds back, a page at a time. One queue per page: what the store reads grows with that queue's
/// limits and locks, never with the number of queues.
/// </summary>
internal static class LimitsPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, ITaskInspector inspector, string? name, CancellationToken ct)
    {
        if (name is null)
        {
            return await ChooseAsync(ctx, inspector, ct).ConfigureAwait(false);
        }

        if (InspectorModel.QueueNameProblem(name) is { } problem)
        {
            return Layout.Page(ctx, "No such queue", "limits", h => h.Raw("<p class=\"error\">").Text(problem).Raw("</p>"), StatusCodes.Status400BadRequest);
        }

        IReadOnlyList<LimitSummary> limits;
        IReadOnlyList<LockSummary> locks;
        try
        {
            limits = await inspector.GetLimitsAsync(name, ct).ConfigureAwait(false);
            locks = await inspector.GetLocksAsync(name, ct).ConfigureAwait(false);
        }
        catch (NotSupportedException unsupported)
        {
            return Layout.Page(ctx, "Limits of " + name, "limits", h => h.Raw("<p class=\"error\">").Text("This task store does not list limits or locks: " + unsupported.Message).Raw("</p>"));
        }

        // A lock names its task, not its state: one read for each lock shown, sent together.
        var shown = locks.Take(ctx.Options.PageSize).ToList();
        var states = await Task.WhenAll(shown.Select(l => StateAsync(inspector, l.TaskId, ct))).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        return Layout.Page(ctx, "Limits of " + name, "limits", h =>
        {
            h.Raw("<p><a href=\"").Text(ctx.Link("queue?name=" + Html.Url(name))).Raw("\">Tasks of ").Text(name).Raw("</a></p>");
            h.Raw("<h2>Rate and concurrency limits</h2>");
            if (limits.Count == 0)
            {
                h.Raw("<p class=\"empty\">No limit in use: no limited task of this queue runs, started within its window, or waits.</p>");
            }
            else
            {
                h.Raw("<table class=\"limits\"><thead><tr><th>Task</th><th>Per key</th><th>Kind</th><th>Allows</th><th class=\"num\">Active</th><th class=\"num\">Held</th></tr></thead><tbody>");
                foreach (var limit in limits)
                {
                    h.Raw("<tr data-limit=\"").Text(limit.Key).Raw("\" data-kind=\"").Text(limit.Kind.ToString()).Raw("\"><td>").Text(limit.Task).Raw("</td><td>");
                    if (limit.PerKey is { } perKey)
                    {
                        h.Raw("<code>").Text(perKey).Raw("</code>");
                    }
                    else
                    {
                        h.Raw("<span class=\"hint\">the whole task</span>");
                    }

                    h.Raw("</td><td>").Text(limit.Kind == LimitKind.Rate ? "rate" : "concurrency").Raw("</td><td class=\"allows\">").Text(Allows(limit))
                        .Raw("</td><td class=\"num active\">").Number(limit.Active).Raw("</td><td class=\"num held\">");
                    if (limit.Held > 0)
                    {
                        h.Raw("<a href=\"").Text(ctx.Link(HeldLink(name, limit.Key, limit.Kind, 0))).Raw("\">").Number(limit.Held).Raw("</a>");
                    }
                    else
                    {
                        h.Number(0);
                    }

                    h.Raw("</td></tr>");
                }

                h.Raw("</tbody></table>");
                if (limits.Count == InspectorModel.MaxPageSize)
                {
                    h.Raw("<p class=\"hint\">The first ").Number(limits.Count).Raw(" limits in key order; more may be in use.</p>");
                }
            }

            h.Raw("<h2>Unique locks</h2>");
            if (locks.Count == 0)
            {
                h.Raw("<p class=\"empty\">No unique lock holds: no task with UniqueFor waits or runs here.</p>");
                return;
            }

            h.Raw("<table class=\"locks\"><thead><tr><th>Key</th><th>Task</th><th>State</th><th>Lapses</th></tr></thead><tbody>");
            for (var i = 0; i < shown.Count; i++)
            {
                var held = shown[i];
                h.Raw("<tr data-lock=\"").Text(held.Key).Raw("\"><td><code>").Text(held.Key).Raw("</code></td><td><a href=\"").Text(ctx.Link("task?id=" + Html.Url(held.TaskId))).Raw("\">")
                    .Text(held.TaskId).Raw("</a></td><td>");
                if (states[i] is { } state)
                {
                    h.Raw("<span class=\"state ").Raw(StateNames.Css(state)).Raw("\">").Text(state.ToString()).Raw("</span>");
                }
                else
                {
                    h.Raw("<span class=\"hint\">no longer stored</span>");
                }

                h.Raw("</td><td>").Time(held.ExpiresAt).Raw(" <span class=\"hint\">in ").Text(In(held.ExpiresAt - now)).Raw("</span></td></tr>");
            }

            h.Raw("</tbody></table>");
            if (locks.Count > shown.Count)
            {
                h.Raw("<p class=\"hint\">The ").Number(shown.Count).Raw(" soonest to lapse of ").Number(locks.Count).Raw(locks.Count == InspectorModel.MaxPageSize ? " or more" : string.Empty)
                    .Raw(" locks; <code>typedtasks locks ").Text(name).Raw("</code> lists up to ").Number(InspectorModel.MaxPageSize).Raw(".</p>");
            }
        });
    }

    /// <summary>A page of the tasks one limit holds back, in the order it will let them start.</summary>
    public static async Task<IResult> RenderHeldAsync(DashboardContext ctx, ITaskInspector inspector, string? name, string? key, string? kindText, long offset, CancellationToken ct)
    {
        if (InspectorModel.QueueNameProblem(name) is { } problem)
        {
            return Layout.Page(ctx, "No such queue", "limits", h => h.Raw("<p class=\"error\">").Text(problem).Raw("</p>"), StatusCodes.Status400BadRequest);
        }

        if (key is not { Length: > 0 and <= TaskLimit.MaxKeyLength })
        {
            return Layout.Page(ctx, "No such limit", "limits", h => h.Raw("<p class=\"error\">").Text($"The limit key is blank or longer than {TaskLimit.MaxKeyLength} characters: open a limit from its queue's limits page.").Raw("</p>"), StatusCodes.Status400BadRequest);
        }

        if (kindText is not { Length: > 0 } || char.IsDigit(kindText[0]) || !Enum.TryParse<LimitKind>(kindText, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            return Layout.Page(ctx, "No such limit", "limits", h => h.Raw("<p class=\"error\">").Text($"'{kindText}' is not a limit kind; use {LimitKind.Concurrency} or {LimitKind.Rate}.").Raw("</p>"), StatusCodes.Status400BadRequest);
        }

        offset = Math.Max(0, offset);
        var size = ctx.Options.PageSize;
        IReadOnlyList<TaskSummary> tasks;
        try
        {
            tasks = await inspector.GetHeldTasksAsync(name!, key, kind, offset, size, ct).ConfigureAwait(false);
        }
        catch (NotSupportedException unsupported)
        {
            return Layout.Page(ctx, "Held tasks", "limits", h => h.Raw("<p class=\"error\">").Text("This task store does not list held tasks: " + unsupported.Message).Raw("</p>"));
        }

        return Layout.Page(ctx, $"Held by {key} ({kind.ToString().ToLowerInvariant()})", "limits", h =>
        {
            h.Raw("<p><a href=\"").Text(ctx.Link("limits?name=" + Html.Url(name!))).Raw("\">Limits of ").Text(name).Raw("</a> <span class=\"hint\">Pending tasks this limit holds back, in the order it lets them start.</span></p>");
            if (tasks.Count == 0)
            {
                h.Raw("<p class=\"empty\">No task held back on this page: the limit has let them go, or they were canceled.</p>");
            }
            else
            {
                QueuePage.Table(h, ctx, tasks);
            }

            h.Raw("<nav class=\"pager\">");
            if (offset > 0)
            {
                h.Raw("<a rel=\"prev\" href=\"").Text(ctx.Link(HeldLink(name!, key, kind, Math.Max(0, offset - size)))).Raw("\">← Previous</a>");
            }

            h.Raw("<span>").Number(tasks.Count == 0 ? 0 : offset + 1).Raw("–").Number(offset + tasks.Count).Raw("</span>");
            if (tasks.Count == size)
            {
                h.Raw("<a rel=\"next\" href=\"").Text(ctx.Link(HeldLink(name!, key, kind, offset + size))).Raw("\">Next →</a>");
            }

            h.Raw("</nav>");
        });
    }

    /// <summary>Without a queue named: the queues, with how many tasks each holds back, one link each.</summary>
    private static async Task<IResult> ChooseAsync(DashboardContext ctx, ITaskInspector inspector, CancellationToken ct)
    {
        var queues = await inspector.GetQueuesAsync(ct).ConfigureAwait(false);
        return Layout.Page(ctx, "Limits", "limits", h =>
        {
            if (queues.Count == 0)
            {
                h.Raw("<p class=\"empty\">No queue holds a task yet.</p>");
                return;
            }

            h.Raw("<p class=\"hint\">Limits and unique locks are kept per queue: choose one.</p><table class=\"queues\"><thead><tr><th>Queue</th><th class=\"num\">Pending</th><th class=\"num\">Held</th></tr></thead><tbody>");
            foreach (var queue in queues.OrderByDescending(q => q.Counts.Held).ThenBy(q => q.Name, StringComparer.Ordinal))
            {
                h.Raw("<tr data-queue=\"").Text(queue.Name).Raw("\"><th scope=\"row\"><a href=\"").Text(ctx.Link("limits?name=" + Html.Url(queue.Name))).Raw("\">").Text(queue.Name).Raw("</a></th><td class=\"num\">")
                    .Number(queue.Counts.Pending).Raw("</td><td class=\"num\"><span data-live=\"").Text(queue.Name).Raw(":held\">").Number(queue.Counts.Held).Raw("</span></td></tr>");
            }

            h.Raw("</tbody></table>");
        });
    }

    private static string HeldLink(string queue, string key, LimitKind kind, long offset)
        => "held?name=" + Html.Url(queue) + "&key=" + Uri.EscapeDataString(key) + "&kind=" + kind + (offset > 0 ? "&offset=" + offset.ToString(CultureInfo.InvariantCulture) : string.Empty);

    private static async Task<TaskState?> StateAsync(ITaskInspector inspector, string id, CancellationToken ct)
    {
        try
        {
            return (await inspector.GetTaskAsync(id, ct).ConfigureAwait(false))?.State;
        }
        catch (TaskNotFoundException)
        {
            return null;
        }
    }

    /// <summary>What a limit allows: "2 at once", "10 per second", "100 per 5 minutes".</summary>
    private static string Allows(LimitSummary limit)
    {
        if (limit.Per is not { } per)
        {
            return limit.Count.ToString("N0", CultureInfo.InvariantCulture) + " at once";
        }

        var (amount, unit) = per.Ticks switch
        {
            var t when t % TimeSpan.TicksPerDay == 0 => (per.TotalDays, "day"),
            var t when t % TimeSpan.TicksPerHour == 0 => (per.TotalHours, "hour"),
            var t when t % TimeSpan.TicksPerMinute == 0 => (per.TotalMinutes, "minute"),
            var t when t % TimeSpan.TicksPerSecond == 0 => (per.TotalSeconds, "second"),
            _ => (per.TotalMilliseconds, "ms"),
        };
        var window = amount == 1 ? unit : amount.ToString("0.###", CultureInfo.InvariantCulture) + " " + unit + (unit == "ms" ? string.Empty : "s");
        return limit.Count.ToString("N0", CultureInfo.InvariantCulture) + " per " + window;
    }

    /// <summary>How long until a lock lapses: 4 m 10 s.</summary>
    private static string In(TimeSpan left)
    {
        var seconds = Math.Max(0, (long)Math.Ceiling(left.TotalSeconds));
        return seconds switch
        {
            < 60 => $"{seconds} s",
            < 3600 => $"{seconds / 60} m {seconds % 60} s",
            < 86400 => $"{seconds / 3600} h {seconds % 3600 / 60} m",
            _ => $"{seconds / 86400} d {seconds % 86400 / 3600} h",
        };
    }
}

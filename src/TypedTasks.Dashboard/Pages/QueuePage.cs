using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Pages;

/// <summary>One queue: its tasks of one state, a page at a time, and the operations on them.</summary>
internal static class QueuePage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, ITaskInspector inspector, string? name, string? stateText, long offset, CancellationToken ct)
    {
        if (InspectorModel.QueueNameProblem(name) is { } problem)
        {
            return Layout.Page(ctx, "No such queue", "overview", h => h.Raw("<p class=\"error\">").Text(problem).Raw("</p>"), StatusCodes.Status400BadRequest);
        }

        var state = TaskState.Pending;
        if (stateText is not null && !StateNames.TryParse(stateText, out state))
        {
            return Layout.Page(ctx, "No such state", "overview", h => h.Raw("<p class=\"error\">").Text($"'{stateText}' is not a task state; use one of {string.Join(", ", StateNames.All)}.").Raw("</p>"), StatusCodes.Status400BadRequest);
        }

        offset = Math.Max(0, offset);
        var size = ctx.Options.PageSize;
        var summary = await inspector.GetQueueAsync(name!, ct).ConfigureAwait(false);
        var tasks = await inspector.GetTasksAsync(name!, state, offset, size, ct).ConfigureAwait(false);
        var counts = summary?.Counts;
        return Layout.Page(ctx, "Queue " + name, "overview", h =>
        {
            // Shown, not refused: the page fills in live once a task is sent to the queue.
            if (summary is null)
            {
                h.Raw("<p class=\"error\" id=\"unknown\">").Text($"No queue '{name}' is known here: no task was sent to it and no live worker serves it (a mistyped name, or another key prefix?).").Raw("</p>");
            }

            var queueLink = "queue?name=" + Html.Url(name!);
            h.Raw("<nav class=\"tabs\" aria-label=\"States\">");
            foreach (var s in StateNames.All)
            {
                h.Raw("<a class=\"").Raw(StateNames.Css(s)).Raw("\" href=\"").Text(ctx.Link(queueLink + "&state=" + s)).Raw(s == state ? "\" aria-current=\"page\">" : "\">")
                    .Text(s.ToString()).Raw(" <span data-live=\"").Text(name).Raw(":").Raw(StateNames.Css(s)).Raw("\">").Number(counts?[s] ?? 0).Raw("</span>");
                if (s == TaskState.Pending && counts is { Held: > 0 })
                {
                    h.Raw(" <span class=\"held\">(<span data-live=\"").Text(name).Raw(":held\">").Number(counts.Held).Raw("</span> held)</span>");
                }

                h.Raw("</a>");
            }

            h.Raw("</nav><p class=\"limits-link\"><a href=\"").Text(ctx.Link("limits?name=" + Html.Url(name!))).Raw("\">Limits and locks of ").Text(name).Raw("</a>");
            if (counts is { Held: > 0 })
            {
                h.Raw(" <span class=\"hint\">").Number(counts.Held).Raw(" pending task(s) wait for a rate or concurrency limit</span>");
            }

            h.Raw("</p><div class=\"bulk\">");
            if (state == TaskState.Failed)
            {
                Layout.Form(h, ctx, "retry-all", "Retry all failed", "primary", ("queue", name!));
            }

            if (state != TaskState.Started)
            {
                Layout.Form(h, ctx, "delete-all", $"Delete all {state.ToString().ToLowerInvariant()}", "danger", ("queue", name!), ("state", state.ToString()));
            }

            h.Raw("</div>");
            var total = counts?[state] ?? 0;
            if (tasks.Count == 0)
            {
                h.Raw("<p class=\"empty\">No ").Text(state.ToString().ToLowerInvariant()).Raw(" task on this page.</p>");
            }
            else
            {
                Table(h, ctx, tasks);
            }

            h.Raw("<nav class=\"pager\">");
            if (offset > 0)
            {
                h.Raw("<a rel=\"prev\" href=\"").Text(ctx.Link($"{queueLink}&state={state}&offset={Math.Max(0, offset - size)}")).Raw("\">← Previous</a>");
            }

            h.Raw("<span>").Number(tasks.Count == 0 ? 0 : offset + 1).Raw("–").Number(offset + tasks.Count).Raw(" of ").Number(total).Raw("</span>");
            if (offset + tasks.Count < total && tasks.Count == size)
            {
                h.Raw("<a rel=\"next\" href=\"").Text(ctx.Link($"{queueLink}&state={state}&offset={offset + size}")).Raw("\">Next →</a>");
            }

            h.Raw("</nav>");
        });
    }

    /// <summary>A page of tasks with a link to each and the operations its state allows.</summary>
    public static void Table(Html h, DashboardContext ctx, IReadOnlyList<TaskSummary> tasks)
    {
        h.Raw("<table class=\"tasks\"><thead><tr><th>Id</th><th>Task</th><th class=\"num\">Attempt</th><th>Updated</th><th>Due</th><th>Error</th><th></th></tr></thead><tbody>");
        foreach (var task in tasks)
        {
            h.Raw("<tr><td><a href=\"").Text(ctx.Link("task?id=" + Html.Url(task.Id))).Raw("\">").Text(task.Id).Raw("</a></td><td>").Text(task.TaskName)
                .Raw("</td><td class=\"num\">").Number(task.Attempt).Raw("</td><td>").Time(task.UpdatedAt).Raw("</td><td>").Time(task.DueAt).Raw("</td><td class=\"error\">")
                .Text(task.ErrorType is null ? null : task.ErrorType + ": " + task.ErrorMessage).Raw("</td><td class=\"ops\">");
            TaskPage.Operations(h, ctx, task.Id, task.State);
            h.Raw("</td></tr>");
        }

        h.Raw("</tbody></table>");
    }
}

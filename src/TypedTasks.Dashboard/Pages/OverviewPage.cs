using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Pages;

/// <summary>Every queue with its count per state and its live workers; counts refresh live.</summary>
internal static class OverviewPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, ITaskInspector inspector, string? windowKey, CancellationToken ct)
    {
        var queues = await inspector.GetQueuesAsync(ct).ConfigureAwait(false);
        var workers = await inspector.GetWorkersAsync(ct).ConfigureAwait(false);
        var window = MetricsSection.Choose(windowKey);
        var metrics = await inspector.GetMetricsAsync(window.Window, ct).ConfigureAwait(false);
        var now = System.DateTimeOffset.UtcNow;
        return Layout.Page(ctx, "Overview", "overview", h =>
        {
            h.Raw("<section class=\"cards\">");
            Card(h, "Queues", queues.Count, "queues");
            Card(h, "Live workers", workers.Count, "workers");
            Card(h, "Running", queues.Sum(q => q.Counts.Started), "total:started");
            Card(h, "Waiting", queues.Sum(q => q.Counts.Pending), "total:pending");
            Card(h, "Failed", queues.Sum(q => q.Counts.Failed), "total:failed");
            h.Raw("</section>");
            if (queues.Count == 0)
            {
                h.Raw("<p class=\"empty\">No queue holds a task yet.</p>");
                MetricsSection.Render(h, ctx, metrics, window, now);
                return;
            }

            h.Raw("<table class=\"queues\"><thead><tr><th>Queue</th>");
            foreach (var state in StateNames.All)
            {
                h.Raw("<th class=\"num\">").Text(state.ToString()).Raw("</th>");
            }

            h.Raw("<th class=\"num\">Workers</th></tr></thead><tbody>");
            foreach (var queue in queues)
            {
                h.Raw("<tr data-queue=\"").Text(queue.Name).Raw("\"><th scope=\"row\"><a href=\"").Text(ctx.Link("queue?name=" + Html.Url(queue.Name))).Raw("\">").Text(queue.Name).Raw("</a>");
                if (queue.Unserved)
                {
                    h.Raw(" <span class=\"warn\" title=\"Tasks wait here and no live worker serves this queue\">unserved</span>");
                }

                h.Raw("</th>");
                foreach (var state in StateNames.All)
                {
                    h.Raw("<td class=\"num ").Raw(StateNames.Css(state)).Raw("\"><a data-live=\"").Text(queue.Name).Raw(":").Raw(StateNames.Css(state)).Raw("\" href=\"")
                        .Text(ctx.Link("queue?name=" + Html.Url(queue.Name) + "&state=" + state)).Raw("\">").Number(queue.Counts[state]).Raw("</a>");
                    if (state == TaskState.Pending && queue.Counts.Held > 0)
                    {
                        h.Raw(" <a class=\"held\" href=\"").Text(ctx.Link("limits?name=" + Html.Url(queue.Name))).Raw("\"><span data-live=\"").Text(queue.Name).Raw(":held\">").Number(queue.Counts.Held).Raw("</span> held</a>");
                    }

                    h.Raw("</td>");
                }

                h.Raw("<td class=\"num\" data-live=\"").Text(queue.Name).Raw(":workers\">").Number(queue.Workers.Count).Raw("</td></tr>");
            }

            h.Raw("</tbody></table>");
            MetricsSection.Render(h, ctx, metrics, window, now);
        });
    }

    private static void Card(Html h, string label, long value, string live)
        => h.Raw("<div class=\"card\"><span class=\"label\">").Text(label).Raw("</span><span class=\"value\" data-live=\"").Text(live).Raw("\">").Number(value).Raw("</span></div>");
}

using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Pages;

/// <summary>Live workers: where they run, what they serve, what they run now, and how fresh their heartbeat is.</summary>
internal static class WorkersPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, ITaskInspector inspector, CancellationToken ct)
    {
        var workers = await inspector.GetWorkersAsync(ct).ConfigureAwait(false);
        return Layout.Page(ctx, "Workers", "workers", h =>
        {
            if (workers.Count == 0)
            {
                h.Raw("<p class=\"empty\">No live worker: none has sent a heartbeat lately.</p>");
                return;
            }

            h.Raw("<table class=\"workers\"><thead><tr><th>Worker</th><th>Host</th><th class=\"num\">Pid</th><th>Queues</th><th class=\"num\">Concurrency</th><th>Running</th><th class=\"num\">Heartbeat</th></tr></thead><tbody>");
            foreach (var worker in workers)
            {
                h.Raw("<tr><td>").Text(worker.Id).Raw("</td><td>").Text(worker.Host).Raw("</td><td class=\"num\">").Text(worker.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)).Raw("</td><td>").Text(string.Join(", ", worker.Queues))
                    .Raw("</td><td class=\"num\">").Number(worker.Concurrency).Raw("</td><td>");
                foreach (var id in worker.Running)
                {
                    h.Raw("<a href=\"").Text(ctx.Link("task?id=" + Html.Url(id))).Raw("\">").Text(id).Raw("</a> ");
                }

                h.Raw("</td><td class=\"num\">").Text(Math.Round(worker.HeartbeatAge.TotalSeconds, 1).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)).Raw(" s ago</td></tr>");
            }

            h.Raw("</tbody></table>");
        });
    }
}

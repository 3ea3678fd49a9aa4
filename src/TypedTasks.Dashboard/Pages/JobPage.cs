using Microsoft.AspNetCore.Http;
using TypedTasks.Dashboard.Operations;

namespace TypedTasks.Dashboard.Pages;

/// <summary>The progress of a bulk operation; the page reloads itself each second until the operation ends.</summary>
internal static class JobPage
{
    public static IResult Render(DashboardContext ctx, BulkJob? job)
    {
        if (job is null)
        {
            return Layout.Page(ctx, "No such operation", "overview", h => h.Raw("<p class=\"error\">This operation is unknown here: it ran in another process, or long enough ago to be forgotten.</p>"), StatusCodes.Status404NotFound);
        }

        if (!job.Finished)
        {
            ctx.Http.Response.Headers["Refresh"] = "1";
        }

        return Layout.Page(ctx, job.Description, "overview", h =>
        {
            h.Raw("<p id=\"job\" data-finished=\"").Raw(job.Finished ? "true" : "false").Raw("\">");
            if (!job.Finished)
            {
                h.Raw("Running… ").Number(job.Done).Raw(" task(s) so far.");
            }
            else if (job.Error is null)
            {
                h.Raw("Done: ").Number(job.Done).Raw(" task(s).");
            }
            else
            {
                h.Raw("<span class=\"error\">Stopped after ").Number(job.Done).Raw(" task(s): ").Text(job.Error).Raw("</span>");
            }

            h.Raw("</p><p><a id=\"back\" href=\"").Text(ctx.Link("queue?name=" + Html.Url(job.Queue))).Raw("\">Back to ").Text(job.Queue)
                .Raw("</a> · <a href=\"").Text(ctx.Link(string.Empty)).Raw("\">the overview</a></p>");
        });
    }
}

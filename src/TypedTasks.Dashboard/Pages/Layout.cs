using System;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Pages;

/// <summary>The frame around every page: header, navigation, notice, and the footer with the model version.</summary>
internal static class Layout
{
    public static IResult Page(DashboardContext ctx, string title, string active, Action<Html> body, int status = StatusCodes.Status200OK)
    {
        var h = new Html();
        h.Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.Raw("<title>").Text(title).Raw(" · ").Text(ctx.Options.Title).Raw("</title>");
        h.Raw("<link rel=\"icon\" href=\"data:,\">");
        h.Raw("<link rel=\"stylesheet\" href=\"").Text(ctx.Link("assets/dashboard.css")).Raw("\">");
        h.Raw("<script defer src=\"").Text(ctx.Link("assets/dashboard.js")).Raw("\"></script>");
        h.Raw("</head><body data-root=\"").Text(ctx.Root).Raw("\" data-live-interval=\"").Raw(((int)ctx.Options.LiveInterval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)).Raw("\">");
        h.Raw("<header><a class=\"brand\" href=\"").Text(ctx.Link(string.Empty)).Raw("\">").Text(ctx.Options.Title).Raw("</a><nav>");
        Nav(h, ctx, "overview", "Overview", string.Empty, active);
        Nav(h, ctx, "workers", "Workers", "workers", active);
        Nav(h, ctx, "schedules", "Schedules", "schedules", active);
        Nav(h, ctx, "limits", "Limits", "limits", active);
        h.Raw("</nav><span class=\"live\" id=\"live-status\" title=\"Live updates\">●</span>");
        if (ctx.Options.ReadOnly)
        {
            h.Raw("<span class=\"badge\">read-only</span>");
        }

        h.Raw("</header><main>");
        if (ctx.Http.Request.Query["done"] is { Count: > 0 } done)
        {
            h.Raw("<p class=\"notice\" role=\"status\">").Text(done.ToString()).Raw("</p>");
        }

        h.Raw("<h1>").Text(title).Raw("</h1>");
        body(h);
        h.Raw("</main><footer>Inspector model v").Raw(InspectorModel.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Raw(" · TypedTasks ").Text(typeof(ITaskInspector).Assembly.GetName().Version?.ToString(3)).Raw("</footer></body></html>");
        return new HtmlResult(h.ToString(), status);
    }

    private static void Nav(Html h, DashboardContext ctx, string key, string label, string link, string active)
        => h.Raw("<a href=\"").Text(ctx.Link(link)).Raw(key == active ? "\" aria-current=\"page\">" : "\">").Text(label).Raw("</a>");

    /// <summary>An operation's form: a POST with the form token, hidden fields, and one button.</summary>
    public static void Form(Html h, DashboardContext ctx, string action, string label, string css, params (string Name, string Value)[] fields)
    {
        if (ctx.Options.ReadOnly)
        {
            return;
        }

        h.Raw("<form method=\"post\" class=\"op\" action=\"").Text(ctx.Link("ops/" + action)).Raw("\">").Raw(ctx.FormToken());
        foreach (var (name, value) in fields)
        {
            h.Raw("<input type=\"hidden\" name=\"").Text(name).Raw("\" value=\"").Text(value).Raw("\">");
        }

        h.Raw("<input type=\"hidden\" name=\"return\" value=\"").Text(ctx.ReturnUrl).Raw("\">");
        h.Raw("<button type=\"submit\" class=\"").Text(css).Raw("\">").Text(label).Raw("</button></form>");
    }
}

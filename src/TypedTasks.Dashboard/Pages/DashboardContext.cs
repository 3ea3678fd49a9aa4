using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace TypedTasks.Dashboard.Pages;

/// <summary>What a page needs beyond its data: where the dashboard is mounted, its options, and the form token of this request.</summary>
internal sealed class DashboardContext(HttpContext http, string prefix, DashboardOptions options, IAntiforgery antiforgery)
{
    private string? _token;

    public DashboardOptions Options => options;

    /// <summary>The dashboard's root path as the browser sees it, without a trailing slash.</summary>
    public string Root { get; } = http.Request.PathBase.Add(prefix).Value ?? prefix;

    public HttpContext Http => http;

    /// <summary>A link inside the dashboard: <c>Link("queue?name=x")</c>.</summary>
    public string Link(string relative) => Root + "/" + relative;

    /// <summary>This page's address without its notice: where an operation sent from it comes back to.</summary>
    public string ReturnUrl
        => http.Request.PathBase.Add(http.Request.Path)
            + QueryString.Create(http.Request.Query.Where(q => q.Key != "done").SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))).Value;

    /// <summary>
    /// Where to go after an operation: the page it was sent from when that is a page of this
    /// dashboard (never another site: the value comes from the form), else the overview.
    /// </summary>
    public string SafeReturn(string? requested)
        => requested is { Length: > 0 } r && (r == Root || r.StartsWith(Root + "/", StringComparison.Ordinal) || r.StartsWith(Root + "?", StringComparison.Ordinal))
            && !r.Contains("//", StringComparison.Ordinal) && !r.Contains('\\', StringComparison.Ordinal)
            ? r : Root + "/";

    /// <summary>The hidden field every operation's form carries, checked on POST.</summary>
    public string FormToken()
    {
        if (_token is null)
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            _token = "<input type=\"hidden\" name=\"" + Html.Encode(tokens.FormFieldName) + "\" value=\"" + Html.Encode(tokens.RequestToken ?? string.Empty) + "\">";
        }

        return _token;
    }
}

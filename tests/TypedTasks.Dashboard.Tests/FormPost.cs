using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace TypedTasks.Dashboard.Tests;

/// <summary>What a browser does with an operation's form: keeps the page's cookie and posts the form's fields with it.</summary>
internal static partial class FormPost
{
    /// <summary>Gets <paramref name="page"/>, then posts its first form whose action ends with <paramref name="action"/>, fields and cookie as served.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string page, string action, Dictionary<string, string>? headers = null)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, page);
        Add(get, headers);
        using var response = await client.SendAsync(get);
        var html = await response.Content.ReadAsStringAsync();
        var form = Forms().Matches(html).FirstOrDefault(m => System.Net.WebUtility.HtmlDecode(m.Groups["action"].Value).EndsWith(action, System.StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"The page {page} has no form for {action}:\n{html}");
        var fields = Fields().Matches(form.Groups["body"].Value).ToDictionary(m => m.Groups["name"].Value, m => System.Net.WebUtility.HtmlDecode(m.Groups["value"].Value));
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var set) ? string.Join("; ", set.Select(c => c.Split(';')[0])) : null;
        var post = new HttpRequestMessage(HttpMethod.Post, System.Net.WebUtility.HtmlDecode(form.Groups["action"].Value)) { Content = new FormUrlEncodedContent(fields) };
        Add(post, headers);
        if (cookies is not null)
        {
            post.Headers.Add("Cookie", cookies);
        }

        return await client.SendAsync(post);
    }

    private static void Add(HttpRequestMessage request, Dictionary<string, string>? headers)
    {
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.Add(name, value);
        }
    }

    [GeneratedRegex("<form method=\"post\" class=\"op\" action=\"(?<action>[^\"]+)\">(?<body>.*?)</form>", RegexOptions.Singleline)]
    private static partial Regex Forms();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex Fields();
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using TypedTasks.Dashboard;

namespace TypedTasks.Dashboard.Tests;

/// <summary>The return address of an operation: docs/dashboard.md says the browser returns only to a page of the dashboard.</summary>
public sealed class RootMountRedirectTests
{
    [Fact]
    public async Task After_an_operation_the_browser_never_leaves_for_another_site_even_from_a_dashboard_mounted_at_the_root()
    {
        // Kestrel, so that the Location header is the one a browser receives.
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/"), kestrel: true, worker: false);
        var handle = await Tasks.Process.WithClient(app.Client).EnqueueAsync("redirect");
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(app.Address) };

        // Browsers drop tabs and newlines from a URL before parsing it: "/<tab>/evil.example" is "//evil.example".
        var posted = await FormPost.SubmitAsync(client, "/task?id=" + Uri.EscapeDataString(handle.Id), "/ops/delete",
            changed: new Dictionary<string, string> { ["return"] = "/\t/evil.example/" });
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var location = posted.Headers.NonValidated["Location"].ToString();
        var asBrowsed = new Uri(new Uri(app.Address), new string(location.Where(c => c is not ('\t' or '\n' or '\r')).ToArray()));
        Assert.True(asBrowsed.Authority == new Uri(app.Address).Authority, $"the operation sent the browser to {asBrowsed} (Location: {location.Replace("\t", "<tab>", StringComparison.Ordinal)})");
    }
}

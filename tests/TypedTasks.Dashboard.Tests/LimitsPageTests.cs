using System;
using System.Net;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Dashboard;
using TypedTasks.Testing;

namespace TypedTasks.Dashboard.Tests;

/// <summary>The limits, held tasks and locks of a queue, through the ASP.NET Core test host on a real redis-server.</summary>
public sealed class LimitsPageTests
{
    [Fact]
    public async Task The_limits_page_shows_each_limit_its_held_tasks_a_page_at_a_time_and_the_locks_with_their_state()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await DashboardApp.StartAsync(o => o.UseRedis(redis.Endpoint), e => e.MapTypedTasksDashboard("/tasks", o => o.PageSize = 1), worker: false);
        var tasks = await LimitedTasks.ArrangeAsync(app.Client.Store, "dash");
        var client = app.Server.CreateClient();
        await using var raw = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint + ",allowAdmin=true");
        var server = raw.GetServer(redis.Endpoint);
        await server.ConfigResetStatisticsAsync();

        var html = await client.GetStringAsync("/tasks/limits?name=dash");
        Assert.Contains("aria-current=\"page\">Limits</a>", html, StringComparison.Ordinal);
        var heldLink = "/tasks/held?name=dash&amp;key=" + Uri.EscapeDataString(LimitedTasks.AcmeKey) + "&amp;kind=Concurrency";
        Assert.Matches(
            "<tr data-limit=\"dash.import\\|tenant=&quot;acme&quot;\" data-kind=\"Concurrency\"><td>dash.import</td><td><code>tenant=&quot;acme&quot;</code></td><td>concurrency</td>"
            + "<td class=\"allows\">1 at once</td><td class=\"num active\">1</td><td class=\"num held\"><a href=\"" + Regex.Escape(heldLink) + "\">2</a>",
            html);
        Assert.Contains("<tr data-limit=\"dash.mail\" data-kind=\"Rate\"><td>dash.mail</td><td><span class=\"hint\">the whole task</span></td><td>rate</td><td class=\"allows\">1 per minute</td><td class=\"num active\">1</td>", html, StringComparison.Ordinal);

        // The page size is 1: the lock soonest to lapse, its task's state, and how many more there are.
        Assert.Matches("<tr data-lock=\"dash.report:abc\"><td><code>dash.report:abc</code></td><td><a href=\"/tasks/task\\?id=[^\"]+\">" + Regex.Escape(tasks.Reports[0]) + "</a></td><td><span class=\"state scheduled\">Scheduled</span></td><td><time[^>]*>[^<]+</time> <span class=\"hint\">in (9 m|10 m 0 s)", html);
        Assert.DoesNotContain("data-lock=\"dash.report:def\"", html, StringComparison.Ordinal);
        Assert.Contains("The 1 soonest to lapse of 2 locks", html, StringComparison.Ordinal);

        // Held tasks in the order the limit lets them go, one per page.
        var first = await client.GetStringAsync(WebUtility.HtmlDecode(heldLink));
        Assert.Contains(">" + tasks.Acme[1] + "</a>", first, StringComparison.Ordinal);
        Assert.DoesNotContain(tasks.Acme[2], first, StringComparison.Ordinal);
        Assert.DoesNotContain(">" + tasks.Acme[0] + "</a>", first, StringComparison.Ordinal);
        var next = Regex.Match(first, "<a rel=\"next\" href=\"([^\"]+)\"").Groups[1].Value;
        var second = await client.GetStringAsync(WebUtility.HtmlDecode(next));
        Assert.Contains(">" + tasks.Acme[2] + "</a>", second, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\" class=\"warn\">Cancel</button>", second, StringComparison.Ordinal);
        var third = await client.GetStringAsync(WebUtility.HtmlDecode(Regex.Match(second, "<a rel=\"next\" href=\"([^\"]+)\"").Groups[1].Value));
        Assert.Contains("No task held back on this page", third, StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"next\"", third, StringComparison.Ordinal);
        var mail = await client.GetStringAsync("/tasks/held?name=dash&key=dash.mail&kind=rate");
        Assert.Contains(">" + tasks.Mail[1] + "</a>", mail, StringComparison.Ordinal);

        // Held beside pending: on the queue page, the overview, and the list of queues.
        var queue = await client.GetStringAsync("/tasks/queue?name=dash");
        Assert.Contains("<span class=\"held\">(<span data-live=\"dash:held\">3</span> held)</span>", queue, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/tasks/limits?name=dash\">Limits and locks of dash</a>", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"unknown\"", queue, StringComparison.Ordinal);
        var overview = await client.GetStringAsync("/tasks");
        Assert.Contains("<a class=\"held\" href=\"/tasks/limits?name=dash\"><span data-live=\"dash:held\">3</span> held</a>", overview, StringComparison.Ordinal);
        var choose = await client.GetStringAsync("/tasks/limits");
        Assert.Matches("<tr data-queue=\"dash\"><th scope=\"row\"><a href=\"/tasks/limits\\?name=dash\">dash</a></th><td class=\"num\">3</td><td class=\"num\"><span data-live=\"dash:held\">3</span>", choose);

        // None of it listed keys: every read went through the queue's own indexes.
        var stats = (await server.InfoRawAsync("commandstats")) ?? string.Empty;
        Assert.True(stats.Contains("cmdstat_hscan:", StringComparison.Ordinal), stats);
        Assert.DoesNotContain("cmdstat_keys:", stats, StringComparison.Ordinal);
        Assert.DoesNotContain("cmdstat_scan:", stats, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_with_no_limits_says_so_and_a_bad_queue_key_or_kind_is_a_clear_400()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await DashboardApp.StartAsync(o => o.UseRedis(redis.Endpoint), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var client = app.Server.CreateClient();

        var quiet = await client.GetStringAsync("/tasks/limits?name=quiet");
        Assert.Contains("No limit in use", quiet, StringComparison.Ordinal);
        Assert.Contains("No unique lock holds", quiet, StringComparison.Ordinal);
        Assert.Contains("No queue holds a task yet.", await client.GetStringAsync("/tasks/limits"), StringComparison.Ordinal);
        var none = await client.GetStringAsync("/tasks/held?name=quiet&key=dash.mail&kind=Rate");
        Assert.Contains("No task held back on this page", none, StringComparison.Ordinal);

        foreach (var (path, error) in new (string, string)[]
        {
            ("/tasks/limits?name=" + Uri.EscapeDataString("bad{queue}"), "class=\"error\""),
            ("/tasks/held?name=dash&kind=Rate", "The limit key is blank or longer than 512 characters"),
            ("/tasks/held?name=dash&kind=Rate&key=" + new string('k', 513), "The limit key is blank or longer than 512 characters"),
            ("/tasks/held?name=dash&key=dash.mail&kind=Sometimes", "&#x27;Sometimes&#x27; is not a limit kind; use Concurrency or Rate."),
            ("/tasks/held?name=dash&key=dash.mail&kind=1", "&#x27;1&#x27; is not a limit kind"),
            ("/tasks/held?name=dash&key=dash.mail", "&#x27;&#x27; is not a limit kind"),
            ("/tasks/held?key=dash.mail&kind=Rate", "class=\"error\""),
        })
        {
            var answer = await client.GetAsync(path);
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.BadRequest, $"{path}: {answer.StatusCode}");
            Assert.Contains(error, text, StringComparison.Ordinal);
        }
    }
}

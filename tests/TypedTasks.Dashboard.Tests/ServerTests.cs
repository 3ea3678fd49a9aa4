using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using TypedTasks.Dashboard;
using TypedTasks.InMemory;
using TypedTasks.Testing;

namespace TypedTasks.Dashboard.Tests;

/// <summary>The dashboard's answers, security and operations, through the ASP.NET Core test host on the in-memory store.</summary>
public sealed class ServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task By_default_it_answers_this_machine_only_and_tells_others_how_to_open_it()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var client = app.Server.CreateClient();

        var local = await client.GetAsync("/tasks");
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Contains("<h1>Overview</h1>", await local.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        foreach (var path in new[] { "/tasks", "/tasks/workers", "/tasks/queue?name=default", "/tasks/events", "/tasks/assets/dashboard.js" })
        {
            using var remote = new HttpRequestMessage(HttpMethod.Get, path);
            remote.Headers.Add(DashboardApp.RemoteHeader, "10.1.2.3");
            var answer = await client.SendAsync(remote);
            Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
            Assert.Contains("RequireAuthorization", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Opened_explicitly_it_answers_other_machines()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks", o => o.AllowRemoteRequests = true), worker: false);
        using var remote = new HttpRequestMessage(HttpMethod.Get, "/tasks");
        remote.Headers.Add(DashboardApp.RemoteHeader, "10.1.2.3");
        Assert.Equal(HttpStatusCode.OK, (await app.Server.CreateClient().SendAsync(remote)).StatusCode);
    }

    [Fact]
    public async Task With_a_policy_attached_remote_users_need_it_and_operations_can_need_another()
    {
        await using var app = await DashboardApp.StartAsync(
            o => o.UseInMemory(),
            e => e.MapTypedTasksDashboard("/tasks", o => o.OperationsPolicy = "operators").RequireAuthorization("viewers"),
            authentication: true);
        var client = app.Server.CreateClient();
        var handle = await Tasks.Process.WithClient(app.Client).With(new EnqueueOptions { Delay = TimeSpan.FromHours(1) }).EnqueueAsync("held");
        var page = "/tasks/task?id=" + Uri.EscapeDataString(handle.Id);

        // Anonymous from another machine: challenged by the policy, not by the local-only rule.
        using var anonymous = new HttpRequestMessage(HttpMethod.Get, "/tasks");
        anonymous.Headers.Add(DashboardApp.RemoteHeader, "10.1.2.3");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(anonymous)).StatusCode);

        var viewer = new Dictionary<string, string> { [DashboardApp.RemoteHeader] = "10.1.2.3", [DashboardApp.RoleHeader] = "viewer" };
        using var look = new HttpRequestMessage(HttpMethod.Get, page);
        look.Headers.Add(DashboardApp.RemoteHeader, "10.1.2.3");
        look.Headers.Add(DashboardApp.RoleHeader, "viewer");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(look)).StatusCode);

        // A viewer's cancel is refused by the operations policy; the task is still scheduled.
        var refused = await FormPost.SubmitAsync(client, page, "/ops/cancel", viewer);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(TaskState.Scheduled, await handle.GetStateAsync());

        var operatorHeaders = new Dictionary<string, string> { [DashboardApp.RemoteHeader] = "10.1.2.3", [DashboardApp.RoleHeader] = "operator" };
        var done = await FormPost.SubmitAsync(client, page, "/ops/cancel", operatorHeaders);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal(TaskState.Canceled, await handle.GetStateAsync());
    }

    [Fact]
    public async Task Read_only_shows_no_operation_and_refuses_a_posted_one()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks", o => o.ReadOnly = true), worker: false);
        var client = app.Server.CreateClient();
        var handle = await Tasks.Process.WithClient(app.Client).EnqueueAsync("read-only");
        var html = await client.GetStringAsync("/tasks/task?id=" + Uri.EscapeDataString(handle.Id));
        Assert.Contains("read-only", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", html, StringComparison.Ordinal);

        var post = await client.PostAsync("/tasks/ops/delete", new FormUrlEncodedContent(new Dictionary<string, string> { ["id"] = handle.Id }));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Contains("read-only", await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(TaskState.Pending, await handle.GetStateAsync());
    }

    [Fact]
    public async Task An_operation_without_the_pages_form_token_is_refused_and_changes_nothing()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var handle = await Tasks.Process.WithClient(app.Client).EnqueueAsync("forged");

        // A form another site could make the browser send: right fields, no token.
        var forged = await app.Server.CreateClient().PostAsync("/tasks/ops/delete", new FormUrlEncodedContent(new Dictionary<string, string> { ["id"] = handle.Id }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("form token", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(TaskState.Pending, await handle.GetStateAsync());

        var real = await FormPost.SubmitAsync(app.Server.CreateClient(), "/tasks/task?id=" + Uri.EscapeDataString(handle.Id), "/ops/delete");
        Assert.Equal(HttpStatusCode.Redirect, real.StatusCode);
        Assert.Null(await app.Client.GetInfoAsync(handle.Id));
    }

    [Fact]
    public async Task A_failed_task_is_shown_with_its_error_and_retried_from_its_page()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var key = Guid.NewGuid().ToString("N");
        DashTasks.Failing[key] = true;
        var handle = await Tasks.Process.WithClient(app.Client).EnqueueAsync(key);
        await Assert.ThrowsAsync<TaskFailedException>(() => handle.GetAsync(Wait));

        var client = app.Server.CreateClient();
        var page = "/tasks/task?id=" + Uri.EscapeDataString(handle.Id);
        var html = await client.GetStringAsync(page);
        Assert.Contains("cannot process " + key, html, StringComparison.Ordinal);
        Assert.Contains("&quot;key&quot;", html, StringComparison.Ordinal);   // arguments shown with their names

        DashTasks.Failing.TryRemove(key, out _);
        var retried = await FormPost.SubmitAsync(client, page, "/ops/retry");
        Assert.Equal(HttpStatusCode.Redirect, retried.StatusCode);
        Assert.StartsWith(Uri.UnescapeDataString(page), Uri.UnescapeDataString(retried.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.Contains("done=Retried", retried.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => await handle.GetStateAsync() == TaskState.Succeeded, "the retried task succeeds", Wait);
    }

    [Fact]
    public async Task Retrying_a_failed_groups_own_result_from_its_page_does_nothing_and_says_why()
    {
        // Input: a group of two dash.process calls, the second failing; the group's own result
        // (TypedTasks.Group, which no task runs) ends Failed with it. Expected: its page's Retry
        // changes nothing and says that it has no task to run again, not that it is not failed.
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var key = Guid.NewGuid().ToString("N");
        DashTasks.Failing[key] = true;
        var process = Tasks.Process.WithClient(app.Client);
        var group = await TypedTasks.Workflows.TaskGroup.Of(process.Call("fine-" + key), process.Call(key)).EnqueueAsync();
        await Assert.ThrowsAsync<TaskFailedException>(() => group.GetAsync(Wait));

        var page = "/tasks/task?id=" + Uri.EscapeDataString(group.Id);
        var retried = await FormPost.SubmitAsync(app.Server.CreateClient(), page, "/ops/retry");
        Assert.Equal(HttpStatusCode.Redirect, retried.StatusCode);
        Assert.Contains($"done=Nothing done: {group.Id} is not failed, has no task to run again (a group's own result: retry its failed members)", Uri.UnescapeDataString(retried.Headers.Location!.OriginalString), StringComparison.Ordinal);
        Assert.Equal(TaskState.Failed, await group.GetStateAsync());
    }

    [Fact]
    public async Task Retry_all_runs_on_the_server_and_its_page_shows_the_count()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var keys = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var key = Guid.NewGuid().ToString("N");
            DashTasks.Failing[key] = true;
            keys.Add(key);
        }

        var handles = await Tasks.Process.WithClient(app.Client).EnqueueManyAsync(keys);
        foreach (var handle in handles)
        {
            await Assert.ThrowsAsync<TaskFailedException>(() => handle.GetAsync(Wait));
        }

        keys.ForEach(k => DashTasks.Failing.TryRemove(k, out _));
        var client = app.Server.CreateClient();
        var started = await FormPost.SubmitAsync(client, "/tasks/queue?name=dash&state=Failed", "/ops/retry-all");
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var job = started.Headers.Location!.OriginalString;
        Assert.StartsWith("/tasks/jobs?id=", job, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await client.GetStringAsync(job)).Contains("Done: 5 task(s).", StringComparison.Ordinal), "the job reports 5 tasks", Wait);
        Assert.Contains("<a id=\"back\" href=\"/tasks/queue?name=dash\">Back to dash</a>", await client.GetStringAsync(job), StringComparison.Ordinal);
        foreach (var handle in handles)
        {
            await Poll.UntilAsync(async () => await handle.GetStateAsync() == TaskState.Succeeded, "each retried task succeeds", Wait);
        }
    }

    [Theory]
    [InlineData("/tasks/queue?name=a%40b", 400, "@")]
    [InlineData("/tasks/queue?name=dash&state=Sleeping", 400, "is not a task state")]
    [InlineData("/tasks/queue?name=dash&state=4", 400, "is not a task state")]
    [InlineData("/tasks/queue?name=dahs", 200, "No queue &#x27;dahs&#x27; is known here: no task was sent to it and no live worker serves it")]
    [InlineData("/tasks/task?id=", 400, "blank")]
    [InlineData("/tasks/task?id=1-1%40nowhere", 404, "No task with id")]
    [InlineData("/tasks/jobs?id=feedface", 404, "unknown")]
    [InlineData("/tasks/assets/..%2Fsecret.txt", 404, "")]
    [InlineData("/tasks/workflow?id=", 400, "blank")]
    [InlineData("/tasks/workflow?id=0123456789abcdef.2%40dash", 404, "No workflow is stored for &#x27;0123456789abcdef.2@dash&#x27;")]
    [InlineData("/tasks/workflow?id=0123456789abcdef", 404, "No workflow is stored")]
    [InlineData("/tasks/workflow?id=a.b.c.d%40dash", 404, "No workflow is stored")]
    [InlineData("/tasks/workflow?id=%3Cb%3E.x%40dash", 404, "&lt;b&gt;")]
    public async Task Bad_input_gets_a_clear_answer(string path, int status, string message)
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var answer = await app.Server.CreateClient().GetAsync(path);
        Assert.Equal(status, (int)answer.StatusCode);
        Assert.Contains(message, await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operation_never_redirects_to_another_site_and_a_blank_id_is_refused()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var client = app.Server.CreateClient();
        var handle = await Tasks.Process.WithClient(app.Client).With(new EnqueueOptions { Delay = TimeSpan.FromHours(1) }).EnqueueAsync("x");
        var page = await client.GetAsync("/tasks/task?id=" + Uri.EscapeDataString(handle.Id));
        var html = await page.Content.ReadAsStringAsync();
        var cookie = string.Join("; ", page.Headers.GetValues("Set-Cookie"));
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"(?<n>[^\"]+)\" value=\"(?<v>[^\"]+)\"><input type=\"hidden\" name=\"id\"");

        foreach (var (id, target, expected) in new[] { (handle.Id, "https://evil.example/", "/tasks/"), (handle.Id, "//evil.example/tasks", "/tasks/"), ("", "/tasks/", null) })
        {
            var post = new HttpRequestMessage(HttpMethod.Post, "/tasks/ops/cancel")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { [token.Groups["n"].Value] = System.Net.WebUtility.HtmlDecode(token.Groups["v"].Value), ["id"] = id, ["return"] = target }),
            };
            post.Headers.Add("Cookie", cookie.Split(';')[0]);
            var answer = await client.SendAsync(post);
            if (expected is null)
            {
                Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
                Assert.Contains("non-blank 'id'", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
                Assert.StartsWith(expected + "?done=", answer.Headers.Location!.OriginalString, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Text_from_the_store_is_encoded_never_run_as_markup()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var handle = await Tasks.Process.WithClient(app.Client).EnqueueAsync("<script>alert(1)</script>");
        var html = await app.Server.CreateClient().GetStringAsync("/tasks/task?id=" + Uri.EscapeDataString(handle.Id));
        Assert.DoesNotContain("<script>alert(1)</script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_overview_charts_the_runs_failures_and_run_times_the_workers_flushed()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        await app.Client.Store.RecordMetricsAsync(MetricsSamples.LastHour("dash.process", DateTimeOffset.UtcNow, runsPerMinute: 10, failuresEvery: 10));
        var client = app.Server.CreateClient();

        var html = await client.GetStringAsync("/tasks");
        Assert.Contains("Runs per minute", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("data-task=\"dash.process\"", html, StringComparison.Ordinal);
        var runs = 60 * 10 + (3 * Enumerable.Range(0, 60).Sum(i => i % 7));
        Assert.Contains($"<td class=\"num\">{runs:N0}</td><td class=\"num\">12</td>", html, StringComparison.Ordinal);

        // Older windows read the ten-minute figures; an unknown window is the last hour.
        Assert.Contains("Runs per 10 minutes", await client.GetStringAsync("/tasks?window=7d"), StringComparison.Ordinal);
        Assert.Contains("Runs per minute", await client.GetStringAsync("/tasks?window=forever"), StringComparison.Ordinal);
    }

    [Fact]
    public void Mounting_without_the_dashboards_services_says_what_to_add()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        builder.Services.AddTypedTasks(o => o.UseInMemory());
        using var app = builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.MapTypedTasksDashboard("/tasks"));
        Assert.Contains("AddTypedTasksDashboard()", error.Message, StringComparison.Ordinal);
    }
}

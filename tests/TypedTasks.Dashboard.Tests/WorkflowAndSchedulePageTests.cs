using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using TypedTasks.Dashboard;
using TypedTasks.InMemory;
using TypedTasks.Scheduling;
using TypedTasks.Testing;
using TypedTasks.Workflows;

namespace TypedTasks.Dashboard.Tests;

/// <summary>The workflow and schedules pages through the ASP.NET Core test host on the in-memory store.</summary>
public sealed class WorkflowAndSchedulePageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_chain_of_three_shows_three_stages_from_the_page_of_any_of_its_tasks()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var chain = await Tasks.Sum.WithClient(app.Client).Call(1, 2).Then(Tasks.Double).Then(Tasks.Double).EnqueueAsync();
        Assert.Equal(12, await chain.GetAsync(Wait));
        var client = app.Server.CreateClient();
        var first = FirstStep(chain.Id);

        // The first step's page links to its workflow; the page found from it shows the whole chain.
        var taskPage = await client.GetStringAsync("/tasks/task?id=" + Uri.EscapeDataString(first));
        Assert.Contains("href=\"/tasks/workflow?id=" + Href(first) + "\"", taskPage, StringComparison.Ordinal);
        Assert.Contains("<a id=\"workflow\"", taskPage, StringComparison.Ordinal);
        foreach (var id in new[] { first, chain.Id, chain.Id.Split('.')[0] })
        {
            var html = await client.GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(id));
            Assert.Equal(3, Regex.Count(html, "<li class=\"stage\""));
            Assert.Equal(3, Regex.Count(html, "<li class=\"member succeeded\">"));
            Assert.Contains("id=\"where\">done</p>", html, StringComparison.Ordinal);
            Assert.Contains(">" + chain.Id + "</a>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_chain_that_failed_shows_the_step_it_stopped_at_and_the_canceled_rest()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var chain = await Tasks.Sum.WithClient(app.Client).Call(60, 60).Then(Tasks.Limit).Then(Tasks.Double).EnqueueAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => chain.GetAsync(Wait));
        var html = await app.Server.CreateClient().GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(chain.Id));

        var limit = chain.Id.Split('.')[0] + ".1@dash";
        Assert.Contains("stopped at " + chain.Id + ": member " + limit + " Failed", html, StringComparison.Ordinal);
        Assert.Matches("<li class=\"member failed stopped\"><a [^>]+>" + Regex.Escape(limit) + "</a>", html);
        Assert.Matches("<li class=\"member canceled\"><a [^>]+>" + Regex.Escape(chain.Id) + "</a>", html);
        Assert.Equal(1, Regex.Count(html, "stopped here"));
    }

    [Fact]
    public async Task A_group_of_tasks_without_a_result_and_a_step_that_takes_no_result_show_as_any_chord_and_chain()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var notify = Tasks.Notify.WithClient(app.Client);
        var chord = await TaskGroup.Of(notify.Call("a"), notify.Call("b")).Then(Tasks.Sum.Call(1, 2)).Then(Tasks.Double).EnqueueAsync();
        Assert.Equal(6, await chord.GetAsync(Wait));
        var client = app.Server.CreateClient();
        var workflow = chord.Id.Split('.')[0];

        var html = await client.GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(chord.Id));
        // The two members, then the step that took no result once both ended, then the last step.
        Assert.Equal(3, Regex.Count(html, "<li class=\"stage\""));
        Assert.Equal(2 + 1 + 1, Regex.Count(html, "<li class=\"member succeeded\">"));
        Assert.Contains("made when 2 tasks ended: 2 did, done", html, StringComparison.Ordinal);
        Assert.Contains("id=\"where\">done</p>", html, StringComparison.Ordinal);

        // The page of a member without a result, and of the step that took no result, open as any task's.
        var member = await client.GetStringAsync("/tasks/task?id=" + Uri.EscapeDataString(workflow + ".0.0@dash"));
        Assert.Contains("dash.notify", member, StringComparison.Ordinal);
        var step = await client.GetStringAsync("/tasks/task?id=" + Uri.EscapeDataString(workflow + ".1@dash"));
        Assert.Contains("dash.sum", step, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chord_shows_its_members_side_by_side_and_marks_the_one_that_failed()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var chord = await TaskGroup.Of(Tasks.Limit.WithClient(app.Client).Call(7), Tasks.Limit.WithClient(app.Client).Call(500), Tasks.Limit.WithClient(app.Client).Call(9))
            .Then(Tasks.Total).EnqueueAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => chord.GetAsync(Wait));
        var workflow = chord.Id.Split('.')[0];

        // Opened from the member that failed: its stage, then the callback it canceled.
        var html = await app.Server.CreateClient().GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(workflow + ".0.1@dash"));
        Assert.Equal(2, Regex.Count(html, "<li class=\"stage\""));
        Assert.Contains("3 tasks", html, StringComparison.Ordinal);
        Assert.Matches("<li class=\"member failed stopped\"><a [^>]+>" + Regex.Escape(workflow + ".0.1@dash") + "</a>", html);
        Assert.Matches("<li class=\"member canceled\"><a [^>]+>" + Regex.Escape(chord.Id) + "</a>", html);
        Assert.Equal(1, Regex.Count(html, "stopped here"));
    }

    [Fact]
    public async Task A_chord_of_chains_whose_member_chain_failed_shows_the_task_that_failed()
    {
        // Input: a chord over two chains (Limit then Double); the second chain's Limit gets 500 and
        // throws. Opened from the chord's handle or from the task that failed, the page must show
        // that task, marked failed, as it does for a chord of calls.
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var limit = Tasks.Limit.WithClient(app.Client);
        var chord = await TaskGroup.Of(limit.Call(7).Then(Tasks.Double), limit.Call(500).Then(Tasks.Double)).Then(Tasks.Total).EnqueueAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => chord.GetAsync(Wait));
        var failed = chord.Id.Split('.')[0] + ".0.1@dash";

        foreach (var id in new[] { chord.Id, failed })
        {
            var html = await app.Server.CreateClient().GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(id));
            Assert.Matches("<li class=\"member failed stopped\"><a [^>]+>" + Regex.Escape(failed) + "</a>", html);
            Assert.Contains("member " + failed + " Failed", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_chord_whose_failure_canceled_a_chain_not_yet_started_shows_the_task_that_failed_not_the_canceled_one()
    {
        // Input: a chord over two chains; the first chain's Limit is held for an hour, the second's
        // gets 500 and throws. The chord's failure cancels the held task, so the first chain's stage
        // ends too, listed before the second's. The page and the inspector must name the task that
        // failed as where it stopped, not the one its failure canceled.
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var limit = Tasks.Limit.WithClient(app.Client);
        var held = limit.With(new EnqueueOptions { Delay = TimeSpan.FromHours(1) }).Call(7).Then(Tasks.Double);
        var chord = await TaskGroup.Of(held, limit.Call(500).Then(Tasks.Double)).Then(Tasks.Total).EnqueueAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => chord.GetAsync(Wait));
        var workflow = chord.Id.Split('.')[0];
        var failed = workflow + ".0.1@dash";
        var canceled = workflow + ".0.0@dash";
        var inspector = app.Server.Services.GetRequiredService<TypedTasks.Inspection.ITaskInspector>();
        Assert.Equal(TaskState.Canceled, (await inspector.GetTaskAsync(canceled))?.State);

        var details = await inspector.GetWorkflowAsync(chord.Id);
        Assert.NotNull(details);
        Assert.Equal("failed", details.Stages[0].State);
        Assert.Equal(1, details.StoppedAt);
        Assert.Equal("stopped at " + workflow + ".2@dash: member " + failed + " Failed", details.Where);

        var html = await app.Server.CreateClient().GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(chord.Id));
        Assert.Matches("<li class=\"member failed stopped\"><a [^>]+>" + Regex.Escape(failed) + "</a>", html);
        Assert.Matches("<li class=\"member canceled\"><a [^>]+>" + Regex.Escape(canceled) + "</a>", html);
        Assert.Equal(1, Regex.Count(html, "stopped here"));
    }

    [Fact]
    public async Task A_chord_of_60_chains_opened_from_its_workflow_id_or_a_member_shows_its_callback()
    {
        // Input: a chord over 60 one-step chains (61 joins, the callback w.61). Opened from the
        // workflow id or from the first member, the page must reach the step the workflow ends with.
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var sum = Tasks.Sum.WithClient(app.Client);
        var chord = await TaskGroup.Of(Enumerable.Range(1, 60).Select(i => sum.Call(i, 0).Then(Tasks.Double))).Then(Tasks.Total).EnqueueAsync();
        Assert.Equal(60 * 61, await chord.GetAsync(Wait));
        var workflow = chord.Id.Split('.')[0];
        Assert.Equal(workflow + ".61@dash", chord.Id);

        foreach (var id in new[] { workflow, workflow + ".0.0@dash" })
        {
            var html = await app.Server.CreateClient().GetStringAsync("/tasks/workflow?id=" + Uri.EscapeDataString(id));
            Assert.Contains(">" + chord.Id + "</a>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_task_outside_any_workflow_has_no_workflow_link_and_no_workflow_page()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var handle = await Tasks.Sum.WithClient(app.Client).EnqueueAsync(1, 1);
        var client = app.Server.CreateClient();
        Assert.DoesNotContain("/workflow?id=", await client.GetStringAsync("/tasks/task?id=" + Uri.EscapeDataString(handle.Id)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/tasks/workflow?id=" + Uri.EscapeDataString(handle.Id))).StatusCode);
    }

    [Fact]
    public async Task The_schedules_page_shows_fire_times_in_the_zone_and_in_UTC_and_pauses_resumes_and_triggers()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"));
        var schedules = app.App.Services.GetRequiredService<ITaskSchedules>();
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var info = await schedules.UpsertAsync("nightly-sum", Tasks.Sum.Call(2, 3), "30 4 * * *", zone);
        var client = app.Server.CreateClient();

        var html = await client.GetStringAsync("/tasks/schedules");
        Assert.Contains("aria-current=\"page\">Schedules</a>", html, StringComparison.Ordinal);
        var next = info.NextFireTimes[0];
        Assert.Contains(TimeZoneInfo.ConvertTime(next, zone).ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
        Assert.Contains("04:30:00 -0", html, StringComparison.Ordinal);                  // 04:30 in New York, -05:00 or -04:00
        Assert.Contains(next.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
        Assert.Contains("America/New_York", html, StringComparison.Ordinal);

        // The [Periodic] task's schedule, stored by the worker serving its queue.
        Assert.Contains("data-schedule=\"dash.yearly\"", html, StringComparison.Ordinal);
        Assert.Contains("Europe/Berlin", html, StringComparison.Ordinal);

        var paused = await FormPost.SubmitAsync(client, "/tasks/schedules", "/ops/schedule-pause", changed: new() { ["name"] = "nightly-sum" });
        Assert.Equal(HttpStatusCode.Redirect, paused.StatusCode);
        Assert.Contains("done=Paused", paused.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.True((await schedules.GetAsync("nightly-sum"))!.Paused);
        Assert.Contains("<span class=\"paused\">paused</span>", await client.GetStringAsync("/tasks/schedules"), StringComparison.Ordinal);

        var resumed = await FormPost.SubmitAsync(client, "/tasks/schedules", "/ops/schedule-resume");
        Assert.Equal(HttpStatusCode.Redirect, resumed.StatusCode);
        Assert.False((await schedules.GetAsync("nightly-sum"))!.Paused);

        var triggered = await FormPost.SubmitAsync(client, "/tasks/schedules", "/ops/schedule-trigger", changed: new() { ["name"] = "nightly-sum" });
        Assert.Equal(HttpStatusCode.Redirect, triggered.StatusCode);
        Assert.Contains("done=Triggered", triggered.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await schedules.GetAsync("nightly-sum")) is { LastState: TaskState.Succeeded }, "the triggered run succeeds", Wait);
        var last = (await schedules.GetAsync("nightly-sum"))!.LastTaskId!;
        Assert.Matches("<a href=\"/tasks/task\\?id=" + Regex.Escape(Href(last)) + "\">" + Regex.Escape(last) + "</a> <span class=\"state succeeded\">Succeeded</span>", await client.GetStringAsync("/tasks/schedules"));

        // A schedule removed after its page was served: nothing done, and the page says so.
        await schedules.RemoveAsync("nightly-sum");
        var gone = await FormPost.SubmitAsync(client, "/tasks/schedules", "/ops/schedule-trigger", changed: new() { ["name"] = "nightly-sum" });
        Assert.Contains("Nothing%20done", gone.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schedule_operation_from_a_read_only_dashboard_without_a_token_or_without_a_name_is_refused()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks", o => o.ReadOnly = true), worker: false);
        var schedules = app.App.Services.GetRequiredService<ITaskSchedules>();
        await schedules.UpsertAsync("held", Tasks.Sum.Call(1, 1), "0 0 * * *");
        var client = app.Server.CreateClient();
        var html = await client.GetStringAsync("/tasks/schedules");
        Assert.Contains("data-schedule=\"held\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", html, StringComparison.Ordinal);
        var readOnly = await client.PostAsync("/tasks/ops/schedule-pause", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "held" }));
        Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
        Assert.Contains("read-only", await readOnly.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await schedules.GetAsync("held"))!.Paused);

        await using var open = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var openSchedules = open.App.Services.GetRequiredService<ITaskSchedules>();
        await openSchedules.UpsertAsync("held", Tasks.Sum.Call(1, 1), "0 0 * * *");
        var openClient = open.Server.CreateClient();
        var forged = await openClient.PostAsync("/tasks/ops/schedule-pause", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "held" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("form token", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await openSchedules.GetAsync("held"))!.Paused);

        var blank = await FormPost.SubmitAsync(openClient, "/tasks/schedules", "/ops/schedule-pause", changed: new() { ["name"] = " " });
        Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        Assert.Contains("needs a non-blank 'name'", await blank.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await openSchedules.GetAsync("held"))!.Paused);
    }

    [Fact]
    public async Task A_schedule_the_store_cannot_read_shows_why_and_its_resume_says_why_it_did_nothing()
    {
        await using var app = await DashboardApp.StartAsync(o => o.UseInMemory(), e => e.MapTypedTasksDashboard("/tasks"), worker: false);
        var store = (TypedTasks.Store.IScheduleStore)app.Client.Store;
        await store.UpsertScheduleAsync("garbled", "not a definition", null);
        await store.SetPausedAsync("garbled", true, null);
        var client = app.Server.CreateClient();
        var html = await client.GetStringAsync("/tasks/schedules");
        Assert.Matches("data-schedule=\"garbled\".*<span class=\"paused\">paused</span><br><span class=\"error\">[^<]+</span>", html);

        var resumed = await FormPost.SubmitAsync(client, "/tasks/schedules", "/ops/schedule-resume");
        Assert.Equal(HttpStatusCode.Redirect, resumed.StatusCode);
        var notice = Uri.UnescapeDataString(resumed.Headers.Location!.OriginalString);
        Assert.Contains("done=Nothing done: The schedule 'garbled' cannot be resumed", notice, StringComparison.Ordinal);
        Assert.True((await store.GetScheduleAsync("garbled"))!.Paused);
    }

    /// <summary>An id as the pages put it in a link's query.</summary>
    private static string Href(string id) => System.Text.Encodings.Web.UrlEncoder.Default.Encode(id);

    /// <summary>The first step of a chain whose last step is <paramref name="last"/>: <c>w.0@queue</c> (docs/workflows.md).</summary>
    private static string FirstStep(string last) => last.Split('.')[0] + ".0@" + last.Split('@')[1];
}

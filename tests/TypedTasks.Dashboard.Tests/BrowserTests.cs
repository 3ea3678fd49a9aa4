using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using TypedTasks.Dashboard;
using TypedTasks.Scheduling;
using TypedTasks.Testing;
using TypedTasks.Workflows;

namespace TypedTasks.Dashboard.Tests;

/// <summary>The dashboard in a real headless Chromium, on a real redis-server with a running worker.</summary>
public sealed class BrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>The size of the big queue; 1,000,000 unless TYPEDTASKS_DASHBOARD_BIG_QUEUE says otherwise.</summary>
    private static readonly int BigQueue = int.TryParse(Environment.GetEnvironmentVariable("TYPEDTASKS_DASHBOARD_BIG_QUEUE"), out var n) ? n : 1_000_000;

    [Fact]
    public async Task The_overview_shows_real_counts_and_a_count_changes_live_without_a_reload()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartAsync(redis);
        var sums = await Tasks.Sum.WithClient(app.Client).EnqueueManyAsync(Enumerable.Range(0, 20).Select(i => (i, i)));
        foreach (var sum in sums)
        {
            await sum.GetAsync(Wait);
        }

        await app.Client.Store.RecordMetricsAsync(MetricsSamples.LastHour("dash.sum", DateTimeOffset.UtcNow, runsPerMinute: 40, failuresEvery: 9));
        var (page, errors) = await OpenAsync(app, "/tasks");
        await Assertions.Expect(page.Locator("figure.chart svg rect").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table.task-metrics tr[data-task='dash.sum']")).ToBeVisibleAsync();
        var succeeded = page.Locator("tr[data-queue='dash'] [data-live='dash:succeeded']");
        await Assertions.Expect(succeeded).ToHaveTextAsync("20");
        await Assertions.Expect(page.Locator("[data-live='workers']")).ToHaveTextAsync("1");

        // Sent after the page loaded: the count changes by the live feed, not by a reload.
        await page.EvaluateAsync("() => { window.notReloaded = true; }");
        await Tasks.Sum.WithClient(app.Client).With(new EnqueueOptions { Delay = TimeSpan.FromHours(1) }).EnqueueManyAsync([(1, 2), (3, 4), (5, 6)]);
        await Assertions.Expect(page.Locator("[data-live='dash:scheduled']")).ToHaveTextAsync("3", new() { Timeout = 15_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        await Assertions.Expect(page.Locator("#live-status")).ToHaveClassAsync("live on");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "overview.png"), FullPage = true });

        var (workers, workerErrors) = await OpenAsync(app, "/tasks/workers");
        await Assertions.Expect(workers.Locator("table.workers tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(workers.Locator("table.workers tbody td").Nth(2)).ToHaveTextAsync(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await workers.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "workers.png"), FullPage = true });
        Assert.Empty(errors);
        Assert.Empty(workerErrors);
    }

    [Fact]
    public async Task A_dead_task_is_retried_from_its_page_and_ends_Succeeded()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartAsync(redis);
        var key = Guid.NewGuid().ToString("N");
        DashTasks.Failing[key] = true;
        var handle = await Tasks.Process.WithClient(app.Client).EnqueueAsync(key);
        await Assert.ThrowsAsync<TaskFailedException>(() => handle.GetAsync(Wait));

        var (page, errors) = await OpenAsync(app, "/tasks/queue?name=dash&state=Failed");
        await page.ClickAsync($"a:text-is('{handle.Id}')");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("cannot process " + key);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "failed-task.png"), FullPage = true });

        DashTasks.Failing.TryRemove(key, out _);
        await page.ClickAsync("button:text-is('Retry')");
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("Retried: " + handle.Id);
        Assert.Equal("processed " + key, await handle.GetAsync(Wait));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".state")).ToHaveTextAsync("Succeeded");
        await Assertions.Expect(page.Locator("#result")).ToContainTextAsync("processed " + key);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "retried-task.png"), FullPage = true });
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_page_of_a_queue_of_a_million_tasks_renders()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartAsync(redis);
        // Chunks small enough that a busy machine's Redis answers each well within the client's timeout.
        const int Chunk = 10_000;
        for (var sent = 0; sent < BigQueue; sent += Chunk)
        {
            await Tasks.Waiting.WithClient(app.Client).EnqueueManyAsync(Enumerable.Range(sent, Math.Min(Chunk, BigQueue - sent)));
        }

        var (page, errors) = await OpenAsync(app, "/tasks/queue?name=dash-big&state=Pending");
        await Assertions.Expect(page.Locator("table.tasks tbody tr")).ToHaveCountAsync(50);
        await Assertions.Expect(page.Locator(".tabs [data-live='dash-big:pending']")).ToHaveTextAsync(BigQueue.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator(".pager")).ToContainTextAsync($"1–50 of {BigQueue.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}");
        await page.ClickAsync("a[rel='next']");
        await Assertions.Expect(page.Locator(".pager")).ToContainTextAsync("51–100");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "big-queue.png"), FullPage = true });

        var (overview, overviewErrors) = await OpenAsync(app, "/tasks");
        await Assertions.Expect(overview.Locator("tr[data-queue='dash-big'] [data-live='dash-big:pending']")).ToHaveTextAsync(BigQueue.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(overview.Locator("tr[data-queue='dash-big'] .warn")).ToHaveTextAsync("unserved");
        Assert.Empty(errors);
        Assert.Empty(overviewErrors);
    }

    [Fact]
    public async Task A_chain_of_three_steps_shows_three_stages_with_their_states()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartAsync(redis);
        var done = await Tasks.Sum.WithClient(app.Client).Call(1, 2).Then(Tasks.Double).Then(Tasks.Double).EnqueueAsync();
        Assert.Equal(12, await done.GetAsync(Wait));
        var stopped = await Tasks.Sum.WithClient(app.Client).Call(60, 60).Then(Tasks.Limit).Then(Tasks.Double).EnqueueAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => stopped.GetAsync(Wait));

        // From the first step's page to its workflow.
        var first = done.Id.Split('.')[0] + ".0@dash";
        var (page, errors) = await OpenAsync(app, "/tasks/task?id=" + Uri.EscapeDataString(first));
        await page.ClickAsync("#workflow");
        await Assertions.Expect(page.Locator("#where")).ToHaveTextAsync("done");
        await Assertions.Expect(page.Locator("ol.workflow > li.stage")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("li.member.succeeded")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("ol.workflow > li.stage").Nth(2).Locator("a")).ToHaveTextAsync(done.Id);

        var (failed, failedErrors) = await OpenAsync(app, "/tasks/workflow?id=" + Uri.EscapeDataString(stopped.Id));
        await Assertions.Expect(failed.Locator("ol.workflow > li.stage")).ToHaveCountAsync(3);
        await Assertions.Expect(failed.Locator("ol.workflow > li.stage").Nth(0).Locator(".state")).ToHaveTextAsync("Succeeded");
        await Assertions.Expect(failed.Locator("li.member.stopped .state")).ToHaveTextAsync("Failed");
        await Assertions.Expect(failed.Locator("ol.workflow > li.stage").Nth(2).Locator(".state")).ToHaveTextAsync("Canceled");
        await Assertions.Expect(failed.Locator("#where")).ToContainTextAsync("stopped at " + stopped.Id);
        await failed.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "workflow.png"), FullPage = true });
        Assert.Empty(errors);
        Assert.Empty(failedErrors);
    }

    [Fact]
    public async Task A_schedules_Trigger_button_makes_a_run()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartAsync(redis);
        var schedules = app.App.Services.GetRequiredService<ITaskSchedules>();
        await schedules.UpsertAsync("sum-at-dawn", Tasks.Sum.Call(20, 22), "0 6 * * *", TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"));
        await Poll.UntilAsync(async () => (await schedules.GetAsync("dash.yearly")) is { Stored: true }, "the worker stores the [Periodic] task's schedule", Wait);

        var (page, errors) = await OpenAsync(app, "/tasks/schedules");
        var row = page.Locator("tr[data-schedule='sum-at-dawn']");
        await Assertions.Expect(row.Locator(".fires li").First).ToContainTextAsync("06:00:00 +09:00");
        await Assertions.Expect(page.Locator("tr[data-schedule='dash.yearly'] .zone")).ToHaveTextAsync("Europe/Berlin");
        await Assertions.Expect(row.Locator(".last")).ToHaveTextAsync("never");

        await row.Locator("button:text-is('Trigger')").ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToHaveTextAsync("Triggered: sum-at-dawn");
        await Poll.UntilAsync(async () => (await schedules.GetAsync("sum-at-dawn")) is { LastState: TaskState.Succeeded }, "the triggered run succeeds", Wait);
        await page.ReloadAsync();
        await Assertions.Expect(row.Locator(".last .state")).ToHaveTextAsync("Succeeded");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "schedules.png"), FullPage = true });

        await row.Locator(".last a").ClickAsync();
        await Assertions.Expect(page.Locator("#result")).ToHaveTextAsync("42");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_limit_with_held_tasks_and_the_queues_locks_show_on_its_limits_page()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartAsync(redis);
        var tasks = await LimitedTasks.ArrangeAsync(app.Client.Store, "limited");

        // From the overview's held count to the queue's limits.
        var (page, errors) = await OpenAsync(app, "/tasks");
        await Assertions.Expect(page.Locator("tr[data-queue='limited'] a.held")).ToHaveTextAsync("3 held");
        await page.ClickAsync("tr[data-queue='limited'] a.held");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Limits of limited");
        var acme = page.Locator("tr[data-kind='Concurrency']").Filter(new() { HasText = "tenant=\"acme\"" });
        await Assertions.Expect(acme.Locator(".allows")).ToHaveTextAsync("1 at once");
        await Assertions.Expect(acme.Locator(".active")).ToHaveTextAsync("1");
        await Assertions.Expect(acme.Locator(".held")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("tr[data-limit='dash.mail'] .allows")).ToHaveTextAsync("1 per minute");
        await Assertions.Expect(page.Locator("table.locks tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("tr[data-lock='dash.report:abc'] a")).ToHaveTextAsync(tasks.Reports[0]);
        await Assertions.Expect(page.Locator("tr[data-lock='dash.report:abc'] .state")).ToHaveTextAsync("Scheduled");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "limits.png"), FullPage = true });

        // The held count links to the tasks the limit holds back, in the order it lets them go.
        await acme.Locator(".held a").ClickAsync();
        await Assertions.Expect(page.Locator("table.tasks tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("table.tasks tbody tr").Nth(0).Locator("td").First).ToHaveTextAsync(tasks.Acme[1]);
        await Assertions.Expect(page.Locator("table.tasks tbody tr").Nth(1).Locator("td").First).ToHaveTextAsync(tasks.Acme[2]);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, "held-tasks.png"), FullPage = true });

        // Canceled from that page, a held task leaves the limit's list and the held count.
        await page.Locator("table.tasks tbody tr").Nth(0).Locator("button:text-is('Cancel')").ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToHaveTextAsync("Canceled: " + tasks.Acme[1]);
        await Assertions.Expect(page.Locator("table.tasks tbody tr")).ToHaveCountAsync(1);
        var (queue, queueErrors) = await OpenAsync(app, "/tasks/queue?name=limited");
        await Assertions.Expect(queue.Locator(".tabs [data-live='limited:held']")).ToHaveTextAsync("2");
        Assert.Empty(errors);
        Assert.Empty(queueErrors);
    }

    private static Task<DashboardApp> StartAsync(RedisServer redis)
        => DashboardApp.StartAsync(
            o => o.UseRedis(redis.Endpoint),
            e => e.MapTypedTasksDashboard("/tasks", o => o.LiveInterval = TimeSpan.FromMilliseconds(500)),
            kestrel: true);

    /// <summary>Opens a page in a fresh context and collects every console error and failed request it has.</summary>
    private async Task<(IPage Page, List<string> Errors)> OpenAsync(DashboardApp app, string path)
    {
        // Closed with the fixture's browser; each page has its own cookies.
        var context = await fixture.Browser.NewContextAsync(new() { BaseURL = app.Address, ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        page.RequestFailed += (_, request) =>
        {
            // The live feed's request is ended by the page's own close or navigation: not an error.
            if (!request.Url.EndsWith("/events", StringComparison.Ordinal))
            {
                errors.Add($"{request.Method} {request.Url}: {request.Failure}");
            }
        };
        var response = await page.GotoAsync(path);
        Assert.True(response is { Ok: true }, $"GET {path} answered {response?.Status}");
        return (page, errors);
    }
}

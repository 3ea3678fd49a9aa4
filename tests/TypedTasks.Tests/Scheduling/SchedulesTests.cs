using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTasks.InMemory;
using TypedTasks.Scheduling;
using TypedTasks.Testing;

namespace TypedTasks.Tests.Scheduling;

/// <summary>Schedules through <see cref="ITaskSchedules"/> from DI and a running worker: what runs, with what, and what bad input gets.</summary>
public sealed class SchedulesTests
{
    [Fact]
    public async Task A_periodic_task_runs_once_per_second_with_its_fire_time_in_the_context()
    {
        PeriodicTasks.Runs.Clear();
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = [PeriodicTasks.Queue]);

        await Poll.UntilAsync(() => Task.FromResult(PeriodicTasks.Runs.Count >= 3), "three runs of the every-second task", TimeSpan.FromSeconds(20));

        var times = PeriodicTasks.Runs.Values.Select(t => t!.Value).OrderBy(t => t).ToList();
        Assert.All(times, t => Assert.Equal(0, t.Millisecond));
        Assert.Equal(times.Count, times.Distinct().Count());
        var info = await host.Host.Services.GetRequiredService<ITaskSchedules>().GetAsync("tests.periodic.every-second");
        Assert.Equal((true, true, PeriodicTasks.Queue), (info!.Declared, info.Stored, info.Queue));
    }

    [Fact]
    public async Task A_dynamic_schedule_runs_its_call_with_the_bound_arguments()
    {
        var label = "r-" + Guid.NewGuid().ToString("N")[..8];
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = [PeriodicTasks.Queue]);
        var schedules = host.Host.Services.GetRequiredService<ITaskSchedules>();

        var info = await schedules.UpsertAsync("report-" + label, Tasks.LabelReport.WithClient(host.Client).Call(label), "* * * * * *");
        Assert.Equal(("tests.periodic.report", PeriodicTasks.Queue, 1L, false), (info.TaskName, info.Queue, info.Generation, info.Declared));

        await Poll.UntilAsync(() => Task.FromResult(PeriodicTasks.Reports.Count(r => r.Label == label) >= 2), "two runs of the dynamic schedule", TimeSpan.FromSeconds(20));
        Assert.True(await schedules.RemoveAsync("report-" + label));
        Assert.Null(await schedules.GetAsync("report-" + label));
        Assert.All(PeriodicTasks.Reports.Where(r => r.Label == label), r => Assert.NotNull(r.ScheduledFor));
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error_and_stores_nothing()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var schedules = host.Host.Services.GetRequiredService<ITaskSchedules>();
        var call = Tasks.LabelReport.WithClient(host.Client).Call("x");

        var name = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("two words", call, "* * * * *"));
        Assert.Contains("without white space", name.Message, StringComparison.Ordinal);
        var cron = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("s", call, "* * * *"));
        Assert.Contains("The cron expression \"* * * *\" is not valid", cron.Message, StringComparison.Ordinal);
        var zone = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("s", call, "* * * * *", TimeZoneInfo.CreateCustomTimeZone("Mars/Olympus", TimeSpan.FromHours(3), "Mars", "Mars")));
        Assert.Contains("\"Mars/Olympus\" is not known on this machine", zone.Message, StringComparison.Ordinal);
        var id = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("s", Tasks.LabelReport.WithClient(host.Client).With(new EnqueueOptions { TaskId = "fixed" }).Call("x"), "* * * * *"));
        Assert.Contains("TaskId, Eta, Delay and ExpiresAt mean nothing", id.Message, StringComparison.Ordinal);
        var queue = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("s", Tasks.LabelReport.WithClient(host.Client).With(new EnqueueOptions { Queue = "bad queue" }).Call("x"), "* * * * *"));
        Assert.Contains("EnqueueOptions.Queue", queue.Message, StringComparison.Ordinal);

        Assert.Empty(await store.ListSchedulesAsync());
    }

    [Fact]
    public async Task A_dynamic_schedule_cannot_take_the_name_of_a_periodic_task()
    {
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = [PeriodicTasks.Queue]);
        var schedules = host.Host.Services.GetRequiredService<ITaskSchedules>();
        await Poll.UntilAsync(async () => (await schedules.GetAsync("tests.periodic.every-second"))?.Stored == true, "the worker stored the periodic schedule", TimeSpan.FromSeconds(20));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("tests.periodic.every-second", Tasks.LabelReport.WithClient(host.Client).Call("x"), "* * * * *"));
        Assert.Contains("is the schedule of the [Periodic] task", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schedule_stored_for_a_task_no_longer_Periodic_is_removed_by_a_worker_with_the_task_at_its_start()
    {
        // Input: the store holds the schedule a worker stored while tests.periodic.report was
        // [Periodic] (declared, every second), and a dynamic schedule "report-7" of the same task;
        // the task is no longer [Periodic]. Expected: a worker serving its queue removes the
        // declared one at its start and logs it; the dynamic one stays.
        var logs = new CapturedLogs();
        var store = new InMemoryTaskStore();
        var declared = new ScheduleDefinition("tests.periodic.report", PeriodicTasks.Queue, ScheduleDefinition.NoArguments, 0, null, "* * * * * *", PeriodicSpec.Utc, MisfirePolicy.RunOnce, OverlapPolicy.Allow, Declared: true);
        await store.UpsertScheduleAsync("tests.periodic.report", declared.Encode(), DateTimeOffset.UtcNow.AddHours(1));
        await store.UpsertScheduleAsync("report-7", (declared with { Declared = false }).Encode(), DateTimeOffset.UtcNow.AddHours(1));

        await using var host = await TestHost.StartAsync(worker: w => w.Queues = [PeriodicTasks.Queue], options: o => o.UseInMemory(store), services: s => s.AddSingleton<ILoggerProvider>(logs));
        await Poll.UntilAsync(async () => await store.GetScheduleAsync("tests.periodic.report") is null, "the schedule of the task no longer [Periodic] removed");
        Assert.Single(logs.Matching("Removed the schedule of task tests.periodic.report", "no longer [Periodic]"));
        Assert.NotNull(await store.GetScheduleAsync("report-7"));
    }

    [Fact]
    public async Task A_worker_of_a_schedules_queue_without_its_task_says_once_that_it_cannot_fire_it()
    {
        // Input: a schedule of every second for task tests.not-here on queue "orphans", served by
        // a worker that does not have that task. Expected: nothing is enqueued (the task's options
        // live with it), and the worker logs once, as an error, why, naming the task and queue.
        var logs = new CapturedLogs();
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["orphans"], options: o => o.UseInMemory(store), services: s => s.AddSingleton<ILoggerProvider>(logs));
        var schedules = host.Host.Services.GetRequiredService<ITaskSchedules>();
        var task = TypedTasks.Testing.StoreConformance.Firers.Task("tests.not-here", "orphans");
        await schedules.UpsertAsync("orphan", TaskCall.Bind(task, ScheduleDefinition.NoArguments, host.Client), "* * * * * *");

        await Poll.UntilAsync(() => Task.FromResult(logs.Matching("'orphan'", "task tests.not-here is not one of this worker's tasks", "queue orphans").Count == 1), "the worker said why it cannot fire the schedule");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Single(logs.Matching("'orphan'", "cannot be fired by this worker"));
        Assert.Equal(0, (await store.CountAsync("orphans")).Pending);
    }

    [Fact]
    public async Task A_dynamic_schedule_cannot_take_the_name_of_a_periodic_task_no_worker_has_stored()
    {
        // Input: an application whose [Periodic] task no worker has stored yet (none runs) upserts
        // a dynamic schedule under that task's name. Expected: refused, nothing stored; otherwise a
        // worker that declares the task replaces it at its start, without a word.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(withWorker: false, options: o => o.UseInMemory(store));
        var schedules = host.Host.Services.GetRequiredService<ITaskSchedules>();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => schedules.UpsertAsync("tests.periodic.every-second", Tasks.LabelReport.WithClient(host.Client).Call("x"), "* * * * *"));
        Assert.Contains("is the schedule of the [Periodic] task", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListSchedulesAsync());
    }

    [Fact]
    public async Task Periodic_tasks_no_worker_stored_yet_are_listed_as_not_stored()
    {
        await using var host = await TestHost.StartAsync(withWorker: false);
        var schedules = host.Host.Services.GetRequiredService<ITaskSchedules>();

        var info = Assert.Single(await schedules.ListAsync(), s => s.Name == "tests.periodic.every-second");

        Assert.Equal((false, true, "* * * * * *", "UTC", 5), (info.Stored, info.Declared, info.Cron, info.TimeZone, info.NextFireTimes.Count));
    }
}

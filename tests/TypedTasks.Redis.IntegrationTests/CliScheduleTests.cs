using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using TypedTasks.Redis.Store;
using TypedTasks.Scheduling;
using TypedTasks.Testing.StoreConformance;
using TypedTasks.Transport;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>typedtasks schedules, run as a process on schedules a real Redis holds.</summary>
public sealed class CliScheduleTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly string _prefix = "clis-" + Guid.NewGuid().ToString("N")[..8];
    private RedisTaskStore _store = null!;

    public async Task InitializeAsync() => _store = await RedisTaskStore.ConnectAsync(redis.Server.Endpoint, new RedisTransportOptions { KeyPrefix = _prefix });

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private Task<(int Exit, string Output)> Cli(params string[] arguments)
        => CliTests.Run(["--redis", redis.Server.Endpoint, "--prefix", _prefix, .. arguments]);

    [Fact]
    public async Task Schedules_lists_triggers_pauses_and_resumes_and_says_when_a_name_is_unknown()
    {
        var (emptyExit, empty) = await Cli("schedules");
        Assert.True(emptyExit == 0, empty);
        Assert.Contains("No schedules.", empty, StringComparison.Ordinal);

        var task = Firers.Task("cli.nightly", "reports");
        var schedules = new TaskSchedules(_store, TimeProvider.System);
        await schedules.UpsertAsync("nightly-report", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(_store)), "0 3 * * *", TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));

        var (exit, output) = await Cli("schedules", "list", "--json");
        Assert.True(exit == 0, output);
        var listed = JsonDocument.Parse(output).RootElement.GetProperty("schedules").EnumerateArray().Single();
        Assert.Equal(("nightly-report", "cli.nightly", "reports", "0 3 * * *", "Europe/Berlin"), (listed.GetProperty("name").GetString(), listed.GetProperty("task").GetString(), listed.GetProperty("queue").GetString(), listed.GetProperty("cron").GetString(), listed.GetProperty("zone").GetString()));
        Assert.Equal(5, listed.GetProperty("next_fire_times").GetArrayLength());

        var (tableExit, table) = await Cli("schedules");
        Assert.True(tableExit == 0, table);
        Assert.Contains("nightly-report", table, StringComparison.Ordinal);
        Assert.Contains("active", table, StringComparison.Ordinal);

        Assert.Equal(0, (await Cli("schedules", "pause", "nightly-report")).Exit);
        Assert.True((await schedules.GetAsync("nightly-report"))!.Paused);
        Assert.Contains("paused", (await Cli("schedules")).Output, StringComparison.Ordinal);
        Assert.Equal(0, (await Cli("schedules", "resume", "nightly-report")).Exit);
        Assert.False((await schedules.GetAsync("nightly-report"))!.Paused);
        Assert.Equal(0, (await Cli("schedules", "trigger", "nightly-report")).Exit);
        Assert.True((await schedules.GetAsync("nightly-report"))!.TriggerPending);

        var (missingExit, missing) = await Cli("schedules", "trigger", "no-such-schedule");
        Assert.Equal(1, missingExit);
        Assert.Contains("no schedule named 'no-such-schedule'", missing, StringComparison.Ordinal);
        var (missingJsonExit, missingJson) = await Cli("schedules", "trigger", "no-such-schedule", "--json");
        Assert.Equal(1, missingJsonExit);
        Assert.Contains("{\"model\":" + TypedTasks.Inspection.InspectorModel.Version + ",\"schedule\":\"no-such-schedule\",\"done\":null}", missingJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedules_marks_a_schedule_whose_queue_no_live_worker_serves()
    {
        // Input: a schedule of queue "reports" with no live worker, then a worker serving
        // "reports". The first listing says that nothing fires it and what to start; the second does not.
        var task = Firers.Task("cli.hourly", "reports");
        var schedules = new TaskSchedules(_store, TimeProvider.System);
        await schedules.UpsertAsync("hourly-report", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(_store)), "0 * * * *");

        var (exit, table) = await Cli("schedules");
        Assert.True(exit == 0, table);
        Assert.Contains("active (!)", table, StringComparison.Ordinal);
        Assert.Contains("(!) hourly-report: no live worker serves queue 'reports', so nothing fires it: start a worker with 'reports' among its queues (TypedTasks:Worker:Queues)", table, StringComparison.Ordinal);

        await _store.HeartbeatAsync(new WorkerDescription(["reports"], 1, new WorkerStatus()), []);
        var (servedExit, served) = await Cli("schedules");
        Assert.True(servedExit == 0, served);
        Assert.Contains("hourly-report", served, StringComparison.Ordinal);
        Assert.DoesNotContain("(!)", served, StringComparison.Ordinal);
    }
}

using System;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedTasks.Celery.TestWorker;
using TypedTasks.Testing;

namespace TypedTasks.Celery.Tests;

/// <summary>Python sends with Celery (delay, apply_async), the .NET worker runs the [Task] of the same name, Python's .get() reads the outcome.</summary>
public sealed class PythonToDotnetTests(CeleryFixture fixture) : IClassFixture<CeleryFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Delay_get_returns_what_the_dotnet_task_returned()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.add", "[2, 3]");

        Assert.True(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal(5, outcome["result"]!.GetValue<int>());
    }

    [Fact]
    public async Task Keyword_arguments_fill_the_parameters_by_name()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.greet", "[\"Ada\"]", "{\"greeting\": \"Hello\"}");

        Assert.True(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal("Hello, Ada!", outcome["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_dotnet_exception_reaches_python_as_a_failure_with_its_type_and_message()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.fail", "[\"the ledger is locked\"]");

        Assert.False(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal("InvalidOperationException", outcome["type"]!.GetValue<string>());
        Assert.Equal("the ledger is locked", outcome["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_missing_argument_fails_with_the_parameter_named()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.greet", "[\"Ada\"]");

        Assert.False(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal("TaskArgumentException", outcome["type"]!.GetValue<string>());
        Assert.Contains("missing argument 'greeting'", outcome["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_run_is_retried_the_celery_way_and_the_retry_succeeds()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.flaky", "[]");

        // The second run is attempt 2: the message came back with retries=1.
        Assert.True(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal(2, outcome["result"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_countdown_is_honoured_the_task_is_held_until_due()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.add", "[4, 4]", "{}", "--countdown", "2");

        Assert.True(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal(8, outcome["result"]!.GetValue<int>());
        Assert.True(outcome["seconds"]!.GetValue<double>() >= 1.9, $"the result came {outcome["seconds"]} s after a 2 s countdown");
    }

    [Fact]
    public async Task Results_a_dotnet_worker_stores_as_msgpack_are_read_by_python_and_by_dotnet()
    {
        // Input: a .NET worker with CeleryOptions.ResultSerializer = "msgpack" on a queue of its own;
        // Python sends a call that succeeds and one that fails, and reads the results with
        // result_serializer msgpack. Expected: .get() returns the result and raises the error, and
        // the stored meta is MessagePack (not bytes from 0x80 turned into U+FFFD, which Python's
        // decoder refused with "unpack(b) received extra data").
        const string Queue = "msgpack-results";
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddCelery(o =>
        {
            o.Connection = fixture.Connection;
            o.ResultSerializer = "msgpack";
        });
        builder.Services.AddCeleryWorker(o =>
        {
            o.Queues.Add(Queue);
            o.Concurrency = 2;
        });
        using var worker = builder.Build();
        await worker.StartAsync();
        try
        {
            var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.greet", "[\"Ada\", \"Hi\"]", "{}", "--queue", Queue, "--result-serializer", "msgpack");
            Assert.True(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
            Assert.Equal("Hi, Ada!", outcome["result"]!.GetValue<string>());
            var stored = (byte[])(await fixture.Connection.GetDatabase().StringGetAsync("celery-task-meta-" + outcome["id"]!.GetValue<string>()))!;
            Assert.True(stored[0] is >= 0x80 and <= 0x8f, $"the stored meta starts with 0x{stored[0]:x2}, not a MessagePack map");
            var client = worker.Services.GetRequiredService<CeleryClient>();
            Assert.Equal("Hi, Ada!", await client.GetResult<string>(outcome["id"]!.GetValue<string>()).GetAsync(Limit));

            var failed = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.fail", "[\"the ledger is locked\"]", "{}", "--queue", Queue, "--result-serializer", "msgpack");
            Assert.False(failed["ok"]!.GetValue<bool>(), failed.ToJsonString());
            Assert.Equal(("InvalidOperationException", "the ledger is locked"), (failed["type"]!.GetValue<string>(), failed["message"]!.GetValue<string>()));
        }
        finally
        {
            await worker.StopAsync(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public async Task A_msgpack_message_runs_like_a_json_one()
    {
        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.greet", "[\"Ada\", \"Hi\"]", "{}", "--serializer", "msgpack");

        Assert.True(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal("Hi, Ada!", outcome["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_revoke_from_python_stops_a_task_the_dotnet_worker_holds_for_its_countdown()
    {
        var before = CeleryWorkerTasks.Recorded;

        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.record", "[]", "{}", "--countdown", "1", "--revoke");

        Assert.False(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal("TaskRevokedError", outcome["type"]!.GetValue<string>());
        Assert.Equal(before, CeleryWorkerTasks.Recorded);
    }

    [Fact]
    public async Task A_pickle_message_is_refused_dead_lettered_with_the_reason_and_never_run()
    {
        var before = CeleryWorkerTasks.Recorded;

        var outcome = await Python.CallAsync(fixture.Url, Limit, "proj.tasks.record", "[]", "{}", "--serializer", "pickle");

        Assert.False(outcome["ok"]!.GetValue<bool>(), outcome.ToJsonString());
        Assert.Equal("ContentDisallowed", outcome["type"]!.GetValue<string>());
        Assert.Contains("application/x-python-serialize", outcome["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, CeleryWorkerTasks.Recorded);
        var dead = await fixture.Connection.GetDatabase().ListRangeAsync("celery.dead");
        var letter = dead.Select(d => JsonNode.Parse((string)d!)!).Single(d => d["message"]!.GetValue<string>().Contains(outcome["id"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Contains("never pickle", letter["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("celery", letter["queue"]!.GetValue<string>());
        Assert.Equal(0, await fixture.Connection.GetDatabase().HashLengthAsync("unacked"));
    }

    [Fact]
    public async Task A_message_that_is_not_a_kombu_envelope_is_dead_lettered_at_fetch()
    {
        var db = fixture.Connection.GetDatabase();
        await db.ListLeftPushAsync("celery", "{not json");

        await Poll.UntilAsync(async () => (await db.ListRangeAsync("celery.dead")).Any(d => ((string)d!).Contains("{not json", StringComparison.Ordinal)), "the broken message in celery.dead", TimeSpan.FromSeconds(10));
        Assert.Equal(0, await db.ListLengthAsync("celery"));
    }
}

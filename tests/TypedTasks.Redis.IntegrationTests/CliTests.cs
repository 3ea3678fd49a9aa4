using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Redis.Store;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Transport;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// The typedtasks tool, run as a process on tasks a real Redis holds. Tasks are put in their
/// states through the store itself (enqueue, fetch, complete), as a worker would.
/// </summary>
public sealed class CliTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private const string Password = "TopSecret-9c41";
    private const string Queue = "default";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _prefix = "cli-" + Guid.NewGuid().ToString("N")[..8];
    private RedisTaskStore _store = null!;

    public async Task InitializeAsync() => _store = await RedisTaskStore.ConnectAsync(redis.Server.Endpoint, new RedisTransportOptions { KeyPrefix = _prefix });

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private Task<(int Exit, string Output)> Cli(params string[] arguments)
        => Run(["--redis", redis.Server.Endpoint, "--prefix", _prefix, .. arguments]);

    internal static async Task<(int Exit, string Output)> Run(string[] arguments, Dictionary<string, string>? environment = null)
    {
        await using var cli = ChildProcess.Start("TypedTasks.Cli", arguments, environment);
        Assert.True(await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)), cli.Output);
        return (cli.ExitCode, cli.Output);
    }

    private static JsonElement Parse(string output) => JsonDocument.Parse(output, new JsonDocumentOptions { MaxDepth = 256 }).RootElement;

    [Fact]
    public async Task Status_shows_the_counts_of_every_state_an_unserved_queue_then_the_live_worker()
    {
        await _store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 5).Select(i => Add(i, i))]);
        await FailAsync("it.fail-first", "k");
        await _store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 5).Select(i => Add(i, i))]);

        var (exit, output) = await Cli("status", "--json");
        Assert.True(exit == 0, output);
        var status = Parse(output);
        Assert.Equal(TypedTasks.Inspection.InspectorModel.Version, status.GetProperty("model").GetInt32());
        var queue = status.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == Queue);
        Assert.Equal((10, 0, 0, 1, 0), (queue.GetProperty("pending").GetInt32(), queue.GetProperty("scheduled").GetInt32(), queue.GetProperty("started").GetInt32(), queue.GetProperty("failed").GetInt32(), queue.GetProperty("workers").GetInt32()));
        Assert.True(queue.GetProperty("unserved").GetBoolean());
        Assert.Empty(status.GetProperty("workers").EnumerateArray());
        var (_, unservedTable) = await Cli("status");
        Assert.Contains("NONE (!)", unservedTable, StringComparison.Ordinal);
        Assert.Contains("No live worker serves default", unservedTable, StringComparison.Ordinal);

        var lease = await FetchOneAsync();
        await _store.HeartbeatAsync(new WorkerDescription([Queue], 3, new WorkerStatus()), [lease]);
        var (servedExit, served) = await Cli("status", "--json");
        Assert.True(servedExit == 0, served);
        var root = Parse(served);
        var worker = root.GetProperty("workers").EnumerateArray().Single();
        Assert.Equal(Environment.ProcessId, worker.GetProperty("pid").GetInt32());
        Assert.Equal(3, worker.GetProperty("concurrency").GetInt32());
        Assert.Equal(Queue, worker.GetProperty("queues")[0].GetString());
        Assert.Equal(lease.Id, worker.GetProperty("running")[0].GetString());
        Assert.InRange(worker.GetProperty("heartbeat_age_s").GetDouble(), 0, 30);
        var servedQueue = root.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == Queue);
        Assert.Equal((1, 1, 9), (servedQueue.GetProperty("workers").GetInt32(), servedQueue.GetProperty("started").GetInt32(), servedQueue.GetProperty("pending").GetInt32()));
        Assert.False(servedQueue.GetProperty("unserved").GetBoolean());

        var (workersExit, workers) = await Cli("workers");
        Assert.True(workersExit == 0, workers);
        Assert.Contains(worker.GetProperty("id").GetString()!, workers, StringComparison.Ordinal);
        var (tableExit, table) = await Cli("status");
        Assert.True(tableExit == 0, table);
        Assert.Contains("QUEUE", table, StringComparison.Ordinal);
        Assert.DoesNotContain("NONE (!)", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_shows_a_failed_tasks_error_and_arguments_by_name_and_dead_retry_runs_it_again()
    {
        var key = Guid.NewGuid().ToString("N");
        var id = await FailAsync("it.fail-first", key);

        // Without the task's assembly the tool does not know the parameter names: positions.
        var (exit, output) = await Cli("inspect", id, "--json");
        Assert.True(exit == 0, output);
        var report = Parse(output);
        Assert.Equal(("Failed", "it.fail-first", 1), (report.GetProperty("state").GetString(), report.GetProperty("task").GetString(), report.GetProperty("attempt").GetInt32()));
        Assert.Equal("System.InvalidOperationException", report.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("first call fails for " + key, report.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("at WorkerTasks.FailFirst()", report.GetProperty("error").GetProperty("details").GetString());
        Assert.Equal(key, report.GetProperty("arguments")[0].GetString());
        Assert.False(report.GetProperty("arguments_named").GetBoolean());

        var (namedExit, named) = await Cli("--tasks-from", typeof(TestWorker.WorkerTasks).Assembly.Location, "inspect", id, "--json");
        Assert.True(namedExit == 0, named);
        Assert.Equal(key, Parse(named).GetProperty("arguments").GetProperty("key").GetString());
        var (textExit, text) = await Cli("--tasks-from", typeof(TestWorker.WorkerTasks).Assembly.Location, "inspect", id);
        Assert.True(textExit == 0, text);
        Assert.Matches($@"(?m)^arguments\s+{{""key"":""{key}""}}$", text);
        Assert.Contains("error           System.InvalidOperationException: first call fails for " + key, text, StringComparison.Ordinal);

        var (badAssembly, badText) = await Cli("--tasks-from", "no-such.dll", "inspect", id);
        Assert.Equal(2, badAssembly);
        Assert.StartsWith("typedtasks: --tasks-from: cannot load tasks from 'no-such.dll'", badText, StringComparison.Ordinal);

        var (listExit, list) = await Cli("dead", "list", Queue);
        Assert.True(listExit == 0, list);
        Assert.Contains(id, list, StringComparison.Ordinal);
        Assert.Contains("first call fails for " + key, list, StringComparison.Ordinal);

        // No queue named: the failed tasks of every queue, each with its queue.
        var (allExit, all) = await Cli("dead", "list", "--json");
        Assert.True(allExit == 0, all);
        var row = Parse(all).GetProperty("tasks").EnumerateArray().Single();
        Assert.Equal((Queue, id), (row.GetProperty("queue").GetString(), row.GetProperty("id").GetString()));

        // Destructive without --yes and nobody to answer: refused, nothing done.
        var (refused, _) = await Cli("dead", "retry", Queue);
        Assert.Equal(1, refused);
        Assert.Equal(TaskState.Failed, (await _store.GetAsync(id))!.State);

        var (retryExit, retried) = await Cli("dead", "retry", Queue, "--yes");
        Assert.True(retryExit == 0, retried);
        Assert.Contains("Retried 1 task(s)", retried, StringComparison.Ordinal);
        var again = await _store.GetAsync(id);
        Assert.Equal((TaskState.Pending, 0, null), (again!.State, again.Attempt, again.Error));
        Assert.Equal(0, (await _store.CountAsync(Queue)).Failed);
    }

    [Fact]
    public async Task Dead_purge_deletes_the_failed_tasks_of_one_queue_only()
    {
        var failed = await FailAsync("it.fail", "boom");
        var pending = await _store.EnqueueAsync(Queue, Add(1, 2));
        var other = await _store.EnqueueAsync("other", Add(3, 4));

        var (exit, output) = await Cli("dead", "purge", Queue, "--yes", "--json");
        Assert.True(exit == 0, output);
        Assert.Equal(1, Parse(output).GetProperty("deleted").GetInt32());
        Assert.Equal(TypedTasks.Inspection.InspectorModel.Version, Parse(output).GetProperty("model").GetInt32());
        Assert.Null(await _store.GetAsync(failed));
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(pending))!.State);
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(other))!.State);

        var (emptyExit, empty) = await Cli("dead", "purge", Queue, "--yes");
        Assert.True(emptyExit == 0, empty);
        Assert.Contains("No failed tasks in 'default'", empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tasks_lists_one_page_of_a_state_in_the_stores_order()
    {
        var ids = await _store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 7).Select(i => Add(i, i))]);

        var (exit, output) = await Cli("tasks", Queue, "--state", "Pending", "--offset", "5", "--count", "5", "--json");
        Assert.True(exit == 0, output);
        var page = Parse(output);
        Assert.Equal(ids.Skip(5), page.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.Equal(("Pending", 5, 5), (page.GetProperty("state").GetString(), page.GetProperty("offset").GetInt32(), page.GetProperty("count").GetInt32()));

        var (tableExit, table) = await Cli("tasks", Queue, "--count", "3");
        Assert.True(tableExit == 0, table);
        Assert.Contains(ids[2], table, StringComparison.Ordinal);
        Assert.DoesNotContain(ids[3], table, StringComparison.Ordinal);
        Assert.Contains("--offset 3", table, StringComparison.Ordinal);

        var (none, noneText) = await Cli("tasks", Queue, "--state", "Failed");
        Assert.True(none == 0, noneText);
        Assert.Contains("No Failed tasks in 'default'.", noneText, StringComparison.Ordinal);

        foreach (var (arguments, error) in new (string[], string)[]
        {
            (["--count", "1001"], "--count: 1001 is not between 1 and 1000"),
            (["--count", "0"], "--count: 0 is not between 1 and 1000"),
            (["--offset", "-1"], "--offset: -1 is negative"),
            (["--state", "Sleeping"], "Sleeping"),
            (["--count", "abc"], "Cannot parse argument 'abc' for option '--count'"),
            (["--count", "99999999999"], "Cannot parse argument '99999999999' for option '--count'"),
            (["--offset", "z"], "Cannot parse argument 'z' for option '--offset'"),
        })
        {
            var (bad, text) = await Cli(["tasks", Queue, .. arguments]);
            Assert.True(bad == 2, $"{string.Join(' ', arguments)}: exit {bad}: {text}");
            Assert.Contains(error, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Names_no_queue_can_have_in_the_set_of_queues_are_left_out_of_status_and_the_dead_list()
    {
        // Input: "bad name" and "x{y}" added by hand to the store's set of queues, beside a queue
        // with a waiting task. Expected: status and dead list still answer (exit 0), with the
        // real queue and without the two names, instead of failing on the first bad one.
        await _store.EnqueueAsync(Queue, Add(1, 2));
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        await admin.GetDatabase().SetAddAsync($"{_prefix}:queues", ["bad name", "x{y}"]);

        foreach (var command in new[] { new[] { "status", "--json" }, ["dead", "list", "--json"], ["status"] })
        {
            var (exit, output) = await Cli(command);
            Assert.True(exit == 0, $"{string.Join(' ', command)}: {output}");
            Assert.DoesNotContain("bad name", output, StringComparison.Ordinal);
            Assert.DoesNotContain("x{y}", output, StringComparison.Ordinal);
        }

        var (statusExit, status) = await Cli("status", "--json");
        Assert.True(statusExit == 0, status);
        Assert.Contains(Parse(status).GetProperty("queues").EnumerateArray(), q => q.GetProperty("name").GetString() == Queue);
    }

    [Fact]
    public async Task Tasks_and_dead_list_of_a_queue_the_store_does_not_know_say_so_and_exit_1()
    {
        await _store.EnqueueManyAsync(Queue, [Add(1, 2)]);

        // A mistyped queue (or a prefix that is not the application's) is no known queue: not an empty one.
        foreach (var arguments in new[] { new[] { "tasks", "defualt" }, ["tasks", "defualt", "--json"], ["dead", "list", "defualt"], ["dead", "list", "defualt", "--json"] })
        {
            var (exit, output) = await Cli(arguments);
            Assert.True(exit == 1, $"{string.Join(' ', arguments)}: exit {exit}: {output}");
            Assert.StartsWith("typedtasks: no queue 'defualt' is known here (no task was sent to it and no live worker serves it): typedtasks status lists the queues", output, StringComparison.Ordinal);
        }

        // The known queue with nothing in the state asked for is still an empty answer, exit 0.
        var (known, knownText) = await Cli("dead", "list", Queue);
        Assert.True(known == 0, knownText);
        Assert.Contains("No failed tasks in 'default'.", knownText, StringComparison.Ordinal);
        var (knownTasks, knownTasksText) = await Cli("tasks", Queue, "--state", "Retrying");
        Assert.True(knownTasks == 0, knownTasksText);
        Assert.Contains("No Retrying tasks in 'default'.", knownTasksText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_writes_offsets_and_quotes_as_they_are_and_escapes_control_characters()
    {
        // Input: a failed task whose argument holds quotes, '+', '<' and an escape character.
        var id = await FailAsync("it.quote", "it's a+b <c>\u001b[31m");

        var (exit, output) = await Cli("inspect", id, "--json");
        Assert.True(exit == 0, output);
        Assert.Matches("\"updated_at\":\"[^\"]+\\+00:00\"", output);
        Assert.Contains("it's a+b <c>\\u001B[31m", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", output, StringComparison.Ordinal);
        Assert.Equal("it's a+b <c>\u001b[31m", Parse(output).GetProperty("arguments")[0].GetString());
    }

    [Fact]
    public async Task Inspect_prints_the_error_line_once_when_the_stored_details_begin_with_it()
    {
        // Input: a failure stored as a .NET worker stores it, the exception's whole text (its
        // "type: message" line, then the stack), and one whose details are the stack only.
        var message = "order " + Guid.NewGuid().ToString("N") + " is gone";
        var whole = await FailWithAsync(new TaskError("System.InvalidOperationException", message, $"System.InvalidOperationException: {message}\n   at Shop.OrderTasks.Confirm()"));
        var (exit, output) = await Cli("inspect", whole);
        Assert.True(exit == 0, output);
        Assert.Equal(1, output.Split(message).Length - 1);
        Assert.Contains($"System.InvalidOperationException: {message}\n   at Shop.OrderTasks.Confirm()", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        var stackOnly = await FailWithAsync(new TaskError("System.InvalidOperationException", message, "   at Shop.OrderTasks.Confirm()"));
        var (stackExit, stackOutput) = await Cli("inspect", stackOnly);
        Assert.True(stackExit == 0, stackOutput);
        Assert.Contains($"System.InvalidOperationException: {message}\n   at Shop.OrderTasks.Confirm()", stackOutput.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_and_cancel_of_an_id_without_its_queue_say_what_a_task_id_looks_like()
    {
        // Input: an id without "@queue" (a sequence number alone, as a newcomer copies it), and one
        // with a queue that holds no such task. Both exit 1; only the first is told the id's form.
        foreach (var command in new[] { "inspect", "cancel" })
        {
            var (exit, output) = await Cli(command, "17");
            Assert.True(exit == 1, $"{command}: exit {exit}: {output}");
            Assert.StartsWith("typedtasks: no task with id '17': a task id ends with @ and its queue, as 5f1c2a9e-17@default (typedtasks tasks QUEUE lists the ids of a queue)", output, StringComparison.Ordinal);

            var (knownForm, knownFormText) = await Cli(command, "17@default");
            Assert.True(knownForm == 1, $"{command}: exit {knownForm}: {knownFormText}");
            Assert.StartsWith("typedtasks: no task with id '17@default' (never enqueued here", knownFormText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_prefix_option_and_an_empty_status_name_the_setting_an_application_sets_its_prefix_with()
    {
        var (exit, help) = await Run(["status", "--help"]);
        Assert.True(exit == 0, help);
        Assert.Contains("TypedTasks:RedisTransport:KeyPrefix", help, StringComparison.Ordinal);
        Assert.DoesNotContain("TypedTasks:Redis:KeyPrefix", help, StringComparison.Ordinal);

        // Input: status under a prefix no application wrote. It names the prefix it looked under.
        var (empty, text) = await Cli("status");
        Assert.True(empty == 0, text);
        Assert.StartsWith($"No queues under the key prefix '{_prefix}' (--prefix; an application sets its own with TypedTasks:RedisTransport:KeyPrefix).", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Arguments_nested_100000_deep_are_listed_and_inspected_with_a_depth_marker()
    {
        // The arguments: one array in another, 100,000 deep, as a hostile or broken producer may send.
        var deep = new byte[100_001];
        deep.AsSpan(0, 100_000).Fill(0x91);
        deep[^1] = 0x90;
        var id = await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("it.deep", deep), 0));

        var (inspectExit, inspected) = await Cli("inspect", id, "--json");
        Assert.True(inspectExit == 0, inspected);
        Assert.Contains("nested deeper than 64", Parse(inspected).GetProperty("arguments").GetRawText(), StringComparison.Ordinal);

        var (textExit, text) = await Cli("inspect", id);
        Assert.True(textExit == 0, text);
        Assert.Contains("nested deeper than 64", text, StringComparison.Ordinal);

        var (listExit, list) = await Cli("tasks", Queue, "--json");
        Assert.True(listExit == 0, list);
        Assert.Equal(id, Parse(list).GetProperty("tasks")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_message_that_is_not_a_task_is_inspected_with_the_reason()
    {
        var id = await _store.EnqueueAsync(Queue, new TaskToEnqueue(new byte[] { 0xc1, 1, 2 }, 0));

        var (exit, output) = await Cli("inspect", id, "--json");
        Assert.True(exit == 0, output);
        var report = Parse(output);
        Assert.Equal("?", report.GetProperty("task").GetString());
        Assert.Equal(3, report.GetProperty("message_bytes").GetInt32());
        Assert.StartsWith("not a TypedTasks envelope", report.GetProperty("message_problem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_arguments_follow_the_one_queue_name_rule()
    {
        foreach (var (command, queue) in new[] { ("list", "my queue"), ("purge", "tab\tq"), ("retry", new string('q', 201)) })
        {
            var (exit, output) = await Cli("dead", command, queue, "--yes");
            Assert.True(exit == 2, $"dead {command} '{queue}': exit {exit}: {output}");
            Assert.Contains("is not a valid queue name: a queue name is 1 to 200 characters without white space, braces or '@'", output, StringComparison.Ordinal);
        }

        var (purgeExit, purged) = await Cli("purge", "a b", "--yes");
        Assert.Equal(2, purgeExit);
        Assert.StartsWith("typedtasks: 'a b' is not a valid queue name", purged, StringComparison.Ordinal);
        var (tasksExit, tasks) = await Cli("tasks", "{q}");
        Assert.Equal(2, tasksExit);
        Assert.StartsWith("typedtasks: '{q}' is not a valid queue name", tasks, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_prefix_is_a_usage_error_with_the_key_prefix_rule()
    {
        foreach (var prefix in new[] { "", "   ", "a{b", "x}" })
        {
            var (exit, output) = await Run(["--redis", redis.Server.Endpoint, "--prefix", prefix, "status"]);
            Assert.True(exit == 2, $"--prefix '{prefix}': exit {exit}: {output}");
            Assert.StartsWith($"typedtasks: --prefix: '{prefix}' is not a valid key prefix: a key prefix is not empty or blank and holds no braces", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_key_of_another_type_is_one_line_without_the_password()
    {
        await using var guarded = await RedisServer.StartAsync(
            false, (port, _) => StackExchange.Redis.ConfigurationOptions.Parse($"127.0.0.1:{port},password={Password}"), "--requirepass", Password);
        var redisWithPassword = $"{guarded.Endpoint},password={Password}";

        // The queue's sequence key holds a string (the queue is named as the password): a refusal, told in one line.
        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redisWithPassword))
        {
            await connection.GetDatabase().StringSetAsync($"tt:{{{Password}}}:seq", "not a hash");
        }

        var (exit, output) = await Run(["--redis", redisWithPassword, "inspect", "1-1@" + Password]);
        Assert.True(exit == 3, $"exit {exit}: {output}");
        Assert.True(output.StartsWith($"typedtasks: Redis at {guarded.Endpoint} refused: WRONGTYPE", StringComparison.Ordinal), output);
        Assert.Single(output.Trim().Split('\n'));
        Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_refused_for_memory_says_Redis_is_out_of_memory_not_unreachable()
    {
        await using var full = await RedisServer.StartAsync(false, null, "--maxmemory-policy", "noeviction");
        string id;
        await using (var store = await RedisTaskStore.ConnectAsync(full.Endpoint))
        {
            id = await store.EnqueueAsync(Queue, Add(1, 2));
        }

        await using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{full.Endpoint},allowAdmin=true"))
        {
            await admin.GetServer(admin.GetEndPoints()[0]).ConfigSetAsync("maxmemory", "1");
        }

        var (exit, output) = await Run(["--redis", full.Endpoint, "cancel", id]);
        Assert.True(exit == 3, $"exit {exit}: {output}");
        Assert.Contains($"Redis at {full.Endpoint} is out of memory and refused a write (OOM)", output, StringComparison.Ordinal);
        Assert.Contains("maxmemory-policy", output, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_and_purge_act_on_waiting_tasks()
    {
        var first = await _store.EnqueueAsync(Queue, Add(1, 1));
        await _store.EnqueueManyAsync(Queue, [Add(2, 2), Add(3, 3)]);
        await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("it.add", Pack(4, 4)), 0, DateTimeOffset.UtcNow.AddHours(1)));

        var (cancelExit, canceled) = await Cli("cancel", first);
        Assert.True(cancelExit == 0, canceled);
        Assert.Contains("Canceled", canceled, StringComparison.Ordinal);
        Assert.Equal(TaskState.Canceled, (await _store.GetAsync(first))!.State);
        var (again, againText) = await Cli("cancel", first, "--json");
        Assert.Equal(1, again);
        Assert.Contains("{\"model\":" + TypedTasks.Inspection.InspectorModel.Version + ",\"id\":", againText, StringComparison.Ordinal);
        Assert.Contains("\"canceled\":false", againText, StringComparison.Ordinal);
        Assert.Contains($"task {first} had already ended: Canceled", againText, StringComparison.Ordinal);

        var (purgeExit, purged) = await Cli("purge", Queue, "--yes");
        Assert.True(purgeExit == 0, purged);
        Assert.Contains("Deleted 2 pending, 1 scheduled and 0 retrying task(s) of 'default'", purged, StringComparison.Ordinal);
        var counts = await _store.CountAsync(Queue);
        Assert.Equal((0L, 0L, 1L), (counts.Pending, counts.Scheduled, counts.Canceled));
    }

    [Fact]
    public async Task Inspect_of_a_task_that_never_ran_says_not_started()
    {
        var id = await _store.EnqueueAsync(Queue, Add(1, 2));

        var (exit, text) = await Cli("inspect", id);
        Assert.True(exit == 0, text);
        Assert.Matches(@"(?m)^attempt\s+not started$", text);
        Assert.Matches(@"(?m)^arguments\s+\[1,2\]$", text);
        var (_, json) = await Cli("inspect", id, "--json");
        Assert.Equal(0, Parse(json).GetProperty("attempt").GetInt32());
        Assert.Equal("Pending", Parse(json).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Help_usage_errors_and_completion_come_from_the_parser()
    {
        var (help, text) = await Run(["--help"]);
        Assert.Equal(0, help);
        Assert.Contains("Commands:", text, StringComparison.Ordinal);
        Assert.Contains("--redis", text, StringComparison.Ordinal);
        Assert.Contains("tasks <QUEUE>", text, StringComparison.Ordinal);

        var (deadHelp, deadText) = await Run(["dead", "list", "--help"]);
        Assert.Equal(0, deadHelp);
        Assert.Contains("typedtasks dead list [<QUEUE>]", deadText, StringComparison.Ordinal);

        // No command, or a bad one: the error, then the usage of the command being typed, exit 2.
        var (none, noneText) = await Run([]);
        Assert.Equal(2, none);
        Assert.Contains("Usage:", noneText, StringComparison.Ordinal);
        var (badQueue, badQueueText) = await Run(["purge", "a{b", "--redis", redis.Server.Endpoint]);
        Assert.Equal(2, badQueue);
        Assert.StartsWith("typedtasks: 'a{b' is not a valid queue name", badQueueText, StringComparison.Ordinal);
        Assert.Contains("typedtasks purge <QUEUE>", badQueueText, StringComparison.Ordinal);

        // The [suggest] directive answers shells' completion (dotnet-suggest).
        var (suggest, words) = await Run(["[suggest:16]", "typedtasks dead "]);
        Assert.Equal(0, suggest);
        Assert.Equal(["list", "purge", "retry"], words.Split('\n', StringSplitOptions.TrimEntries).Where(w => w is "list" or "purge" or "retry"));
    }

    [Fact]
    public async Task No_error_path_prints_the_Redis_password()
    {
        var down = $"127.0.0.1:{RedisServer.FreePort()}";
        await using var guarded = await RedisServer.StartAsync(
            false, (port, _) => StackExchange.Redis.ConfigurationOptions.Parse($"127.0.0.1:{port},password=right-{Password}"), "--requirepass", "right-" + Password);
        (string What, string[] Arguments, Dictionary<string, string>? Environment, int Exit)[] cases =
        [
            ("bad host", ["--redis", $"{down},password={Password}", "status"], null, 3),
            ("bad host, ACL user", ["--redis", $"{down},user=bob,password={Password}", "dead", "list"], null, 3),
            ("bad host from the environment", ["status"], new() { ["TYPEDTASKS_REDIS"] = $"{down},user=bob,password={Password}" }, 3),
            ("wrong password", ["--redis", $"{guarded.Endpoint},password={Password}", "status"], null, 3),
            ("wrong password and user", ["--redis", $"{guarded.Endpoint},user=bob,password={Password}", "inspect", "x"], null, 3),
            ("wrong password, tasks", ["--redis", $"{guarded.Endpoint},password={Password}", "tasks", "default"], null, 3),
            ("bad option", ["--redis", $"{down},password={Password}", "status", "--frobnicate"], null, 2),
            ("bad command", ["--redis", $"{down},password={Password}", "frobnicate"], null, 2),
            ("missing argument", ["--redis", $"{down},password={Password}", "inspect"], null, 2),
            ("connection string without --redis", [$"{down},password={Password}", "status"], null, 2),
            ("bad connection string", ["--redis", $"{down},password={Password},frobnicate=1", "status"], null, 2),
            ("bad queue", ["dead", "retry", "{x}"], new() { ["TYPEDTASKS_REDIS"] = $"{down},password={Password}" }, 2),
            ("bad page", ["--redis", $"{down},password={Password}", "tasks", "default", "--count", "5000"], null, 2),
        ];
        foreach (var (what, arguments, environment, expected) in cases)
        {
            var (exit, output) = await Run(arguments, environment);
            Assert.True(expected == exit, $"{what}: exit {exit}, expected {expected}: {output}");
            Assert.False(output.Contains(Password, StringComparison.Ordinal), $"{what} printed the password: {output}");
            Assert.False(output.Contains("   at ", StringComparison.Ordinal), $"{what} printed a stack trace: {output}");
        }

        var (_, wrong) = await Run(["--redis", $"{guarded.Endpoint},password={Password}", "status"]);
        Assert.StartsWith($"typedtasks: cannot reach Redis at {guarded.Endpoint} (AuthenticationFailure", wrong, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_Redis_or_a_bad_argument_is_one_clear_line_and_a_non_zero_exit()
    {
        var port = RedisServer.FreePort();
        await using (var down = ChildProcess.Start("TypedTasks.Cli", ["--redis", $"127.0.0.1:{port}", "status"]))
        {
            Assert.True(await down.WaitForExitAsync(TimeSpan.FromSeconds(60)), down.Output);
            Assert.Equal(3, down.ExitCode);
            Assert.StartsWith($"typedtasks: cannot reach Redis at 127.0.0.1:{port}", down.Output, StringComparison.Ordinal);
            Assert.Contains("pass --redis HOST:PORT or set TYPEDTASKS_REDIS", down.Output, StringComparison.Ordinal);
            Assert.Single(down.Output.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", down.Output, StringComparison.Ordinal);
        }

        var (exit, output) = await Cli("frobnicate");
        Assert.Equal(2, exit);
        Assert.StartsWith("typedtasks: Unrecognized command or argument 'frobnicate'", output, StringComparison.Ordinal);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        var (missing, text) = await Cli("inspect", "no-such-id");
        Assert.Equal(1, missing);
        Assert.Contains("no task with id 'no-such-id'", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tool_uses_only_the_public_API_of_TypedTasks_and_its_Redis_store()
    {
        // No InternalsVisibleTo from the libraries to the tool: it sees what any application sees.
        foreach (var library in new[] { typeof(TaskInfo).Assembly, typeof(RedisTaskStore).Assembly })
        {
            var friends = library.GetCustomAttributes(typeof(System.Runtime.CompilerServices.InternalsVisibleToAttribute), false)
                .Cast<System.Runtime.CompilerServices.InternalsVisibleToAttribute>()
                .Select(a => a.AssemblyName);
            Assert.DoesNotContain("TypedTasks.Cli", friends);
        }

        // And no key listing: every read goes through the store's indexes.
        var sources = Directory.GetFiles(Path.Combine(RepoRoot(), "src", "TypedTasks.Cli"), "*.cs");
        Assert.NotEmpty(sources);
        foreach (var file in sources)
        {
            var source = File.ReadAllText(file);
            Assert.False(source.Contains("KeysAsync", StringComparison.Ordinal) || source.Contains("SCAN", StringComparison.Ordinal), $"{file} lists keys");
        }
    }

    // ---- Helpers ----

    private static string RepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TypedTasks.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("TypedTasks.sln not found above " + AppContext.BaseDirectory);
    }

    private static TaskToEnqueue Add(int x, int y) => new(Envelope("it.add", Pack(x, y)), 0);

    private static byte[] Pack(params object[] arguments) => MessagePackSerializer.Serialize(arguments, MessagePackSerializerOptions.Standard);

    private static byte[] Envelope(string task, byte[] arguments) => TaskEnvelope.Write(
        new EnvelopeHeader(task, DateTimeOffset.UtcNow, null, null, null),
        new RawArguments(arguments),
        MessagePackSerializerOptions.Standard);

    /// <summary>Enqueues one task with <paramref name="argument"/> and fails its first run, as a worker does; returns its id.</summary>
    private async Task<string> FailAsync(string task, string argument)
    {
        var id = await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope(task, Pack(argument)), 9));
        var lease = await FetchOneAsync();
        Assert.Equal(id, lease.Id);
        var error = new TaskError("System.InvalidOperationException", (task == "it.fail-first" ? "first call fails for " : "") + argument, "at WorkerTasks.FailFirst()");
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Failed(error)));
        return id;
    }

    /// <summary>Enqueues one task and ends its first run with <paramref name="error"/>, as a worker does; returns its id.</summary>
    private async Task<string> FailWithAsync(TaskError error)
    {
        var id = await _store.EnqueueAsync(Queue, Add(1, 2));
        var lease = await FetchOneAsync();
        Assert.Equal(id, lease.Id);
        Assert.True(await _store.CompleteAsync(lease, TaskCompletion.Failed(error)));
        return id;
    }

    private async Task<TaskLease> FetchOneAsync()
    {
        using var limit = new CancellationTokenSource(Bound);
        while (true)
        {
            var leases = await _store.FetchAsync([Queue], 1, limit.Token);
            if (leases.Count > 0)
            {
                return Assert.Single(leases);
            }
        }
    }

    /// <summary>Arguments written byte for byte as given.</summary>
    private readonly struct RawArguments(byte[] bytes) : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteRaw(bytes);
    }
}

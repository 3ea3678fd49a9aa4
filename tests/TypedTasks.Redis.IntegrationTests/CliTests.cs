using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using TypedTasks.Testing;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>The typedtasks tool, run as a process on data a real Redis holds.</summary>
public sealed class CliTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Password = "TopSecret-9c41";

    private Task<(int Exit, string Output)> Cli(string prefix, params string[] arguments)
        => Run(["--redis", redis.Server.Endpoint, "--prefix", prefix, .. arguments]);

    private static async Task<(int Exit, string Output)> Run(string[] arguments, Dictionary<string, string>? environment = null)
    {
        await using var cli = ChildProcess.Start("TypedTasks.Cli", arguments, environment);
        Assert.True(await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)), cli.Output);
        return (cli.ExitCode, cli.Output);
    }


    [Fact]
    public async Task Status_shows_pending_tasks_then_the_worker_and_the_queue_draining()
    {
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, withWorker: false);
        var sums = await Tasks.Add.WithClient(producer.Client).EnqueueManyAsync(Enumerable.Range(0, 5).Select(i => (i, i)));

        var (exit, output) = await Cli(producer.Prefix, "status", "--json");
        Assert.Equal(0, exit);
        var status = JsonDocument.Parse(output).RootElement;
        var queue = status.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "default");
        Assert.Equal(5, queue.GetProperty("pending").GetInt32());
        Assert.Equal(0, queue.GetProperty("scheduled").GetInt32());
        Assert.Equal(0, queue.GetProperty("inflight").GetInt32());
        Assert.Equal(0, queue.GetProperty("dead").GetInt32());
        Assert.Equal(0, queue.GetProperty("workers").GetInt32());
        Assert.True(queue.GetProperty("unserved").GetBoolean());
        Assert.Empty(status.GetProperty("workers").EnumerateArray());
        var (_, unservedTable) = await Cli(producer.Prefix, "status");
        Assert.Contains("NONE (!)", unservedTable, StringComparison.Ordinal);
        Assert.Contains("No live worker serves default", unservedTable, StringComparison.Ordinal);

        await using var worker = await RedisHost.StartAsync(redis.Server.Endpoint, producer.Prefix, w => w.Concurrency = 3);
        await Task.WhenAll(sums.Select(s => s.GetAsync(RedisHost.Wait)));
        await Poll.UntilAsync(async () =>
        {
            var (_, text) = await Cli(producer.Prefix, "status", "--json");
            var root = JsonDocument.Parse(text).RootElement;
            var live = root.GetProperty("workers").EnumerateArray().ToList();
            return live.Count == 1 && live[0].GetProperty("done").GetInt64() >= 5
                && root.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "default").GetProperty("pending").GetInt32() == 0;
        }, "status lists the worker and the drained queue");

        var (_, final) = await Cli(producer.Prefix, "status", "--json");
        var w = JsonDocument.Parse(final).RootElement.GetProperty("workers")[0];
        Assert.Equal(worker.Broker.WorkerId, w.GetProperty("id").GetString());
        Assert.Equal(Environment.ProcessId, w.GetProperty("pid").GetInt32());
        Assert.Equal(3, w.GetProperty("concurrency").GetInt32());
        Assert.Equal("default", w.GetProperty("queues")[0].GetString());
        var served = JsonDocument.Parse(final).RootElement.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "default");
        Assert.Equal(1, served.GetProperty("workers").GetInt32());
        Assert.False(served.GetProperty("unserved").GetBoolean());
        Assert.InRange(w.GetProperty("heartbeat_age_s").GetDouble(), 0, 5);

        var (tableExit, table) = await Cli(producer.Prefix, "status");
        Assert.Equal(0, tableExit);
        Assert.Contains("QUEUE", table, StringComparison.Ordinal);
        Assert.Contains(worker.Broker.WorkerId, table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_shows_a_failed_tasks_remote_error_and_a_dead_letter_is_retried_to_success()
    {
        await using var host = await RedisHost.StartAsync(redis.Server.Endpoint);
        var key = Guid.NewGuid().ToString("N");
        var task = await Tasks.FailFirst.WithClient(host.Client).EnqueueAsync(key);
        await Assert.ThrowsAsync<TaskFailedException>(() => task.GetAsync(RedisHost.Wait));
        await Poll.UntilAsync(async () => (await host.Broker.GetDeadLettersAsync("default")).Count == 1, "the failure is dead-lettered");

        var (exit, output) = await Cli(host.Prefix, "inspect", task.Id, "--json");
        Assert.Equal(0, exit);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal("Failed", report.GetProperty("state").GetString());
        Assert.Equal("it.fail-first", report.GetProperty("task").GetString());
        Assert.Equal("System.InvalidOperationException", report.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("first call fails for " + key, report.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(key, report.GetProperty("arguments")[0].GetString());
        Assert.Equal("dead", report.GetProperty("message").GetString());

        var (listExit, list) = await Cli(host.Prefix, "dead", "list", "default");
        Assert.Equal(0, listExit);
        Assert.Contains(task.Id, list, StringComparison.Ordinal);

        // No queue named: the dead letters of every queue, each with its queue.
        var (allExit, all) = await Cli(host.Prefix, "dead", "list", "--json");
        Assert.Equal(0, allExit);
        var letter = JsonDocument.Parse(all).RootElement.EnumerateArray().Single();
        Assert.Equal("default", letter.GetProperty("queue").GetString());
        Assert.Equal(task.Id, letter.GetProperty("id").GetString());

        // Destructive without --yes and nobody to answer: refused, nothing done.
        var (refused, _) = await Cli(host.Prefix, "dead", "retry", "default");
        Assert.Equal(1, refused);
        Assert.Single(await host.Broker.GetDeadLettersAsync("default"));

        var (retryExit, retried) = await Cli(host.Prefix, "dead", "retry", "default", "--yes");
        Assert.Equal(0, retryExit);
        Assert.Contains("Retried 1 task(s)", retried, StringComparison.Ordinal);
        Assert.Equal("ok:" + key, await Tasks.FailFirst.WithClient(host.Client).GetResult(task.Id).GetAsync(RedisHost.Wait));
        Assert.Empty(await host.Broker.GetDeadLettersAsync("default"));
    }

    [Fact]
    public async Task A_dead_letter_with_arguments_nested_100000_deep_is_listed_and_inspected_with_a_depth_marker()
    {
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, withWorker: false);
        var id = Guid.NewGuid().ToString();

        // The arguments: one array in another, 100,000 deep, as a hostile or broken producer may send.
        var arguments = new byte[100_001];
        arguments.AsSpan(0, 100_000).Fill(0x91);
        arguments[^1] = 0x90;
        var header = new Serialization.EnvelopeHeader(id, "it.deep", "default", 0, 0, DateTimeOffset.UtcNow, null, null, null);
        var body = Serialization.TaskEnvelope.Write(header, new RawArguments(arguments), MessagePack.MessagePackSerializerOptions.Standard);
        await producer.Broker.Database.ListLeftPushAsync(producer.Broker.Keys.Dead("default"), DeadLetterRecord.Write("default", body, "test: deep arguments", DateTimeOffset.UtcNow));

        var (listExit, list) = await Cli(producer.Prefix, "dead", "list", "default", "--json");
        Assert.True(listExit == 0, list);
        var letter = JsonDocument.Parse(list).RootElement.EnumerateArray().Single();
        Assert.Equal(id, letter.GetProperty("id").GetString());
        Assert.Contains("nested deeper than 64", letter.GetProperty("arguments").GetString(), StringComparison.Ordinal);

        var (tableExit, table) = await Cli(producer.Prefix, "dead", "list");
        Assert.True(tableExit == 0, table);
        Assert.Contains(id, table, StringComparison.Ordinal);

        var (inspectExit, inspected) = await Cli(producer.Prefix, "inspect", id, "--json");
        Assert.True(inspectExit == 0, inspected);
        var report = JsonDocument.Parse(inspected, new JsonDocumentOptions { MaxDepth = 256 }).RootElement;
        Assert.Equal("dead", report.GetProperty("message").GetString());
        Assert.Contains("nested deeper than 64", report.GetProperty("arguments").GetRawText(), StringComparison.Ordinal);

        var (textExit, text) = await Cli(producer.Prefix, "inspect", id);
        Assert.True(textExit == 0, text);
        Assert.Contains("nested deeper than 64", text, StringComparison.Ordinal);
    }

    /// <summary>Arguments written byte for byte as given.</summary>
    private readonly struct RawArguments(byte[] bytes) : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options) => writer.WriteRaw(bytes);
    }

    [Fact]
    public async Task Queue_arguments_follow_the_one_queue_name_rule()
    {
        foreach (var (command, queue) in new[] { ("list", "my queue"), ("purge", "tab\tq"), ("retry", new string('q', 201)) })
        {
            var (exit, output) = await Cli("tt", "dead", command, queue, "--yes");
            Assert.True(exit == 2, $"dead {command} '{queue}': exit {exit}: {output}");
            Assert.Contains("is not a valid queue name: a queue name is 1 to 200 characters without white space or braces", output, StringComparison.Ordinal);
        }

        var (purgeExit, purged) = await Cli("tt", "purge", "a b", "--yes");
        Assert.Equal(2, purgeExit);
        Assert.StartsWith("typedtasks: 'a b' is not a valid queue name", purged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_prefix_is_a_usage_error_with_the_key_prefix_rule()
    {
        foreach (var prefix in new[] { "", "   ", "a{b", "x}" })
        {
            var (exit, output) = await Cli(prefix, "status");
            Assert.True(exit == 2, $"--prefix '{prefix}': exit {exit}: {output}");
            Assert.StartsWith($"typedtasks: --prefix: '{prefix}' is not a valid key prefix: a key prefix is not empty or blank and holds no braces", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unexpected_failure_is_one_line_without_the_password_and_exit_1()
    {
        await using var guarded = await RedisServer.StartAsync(
            false, (port, _) => StackExchange.Redis.ConfigurationOptions.Parse($"127.0.0.1:{port},password={Password}"), "--requirepass", Password);
        var redisWithPassword = $"{guarded.Endpoint},password={Password}";

        // A state record that is not MessagePack, with the password in its message: nothing the tool expects to read.
        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redisWithPassword))
        {
            await connection.GetDatabase().StringSetAsync($"tt:result:{Password}", "not a state record");
        }

        var (exit, output) = await Run(["--redis", redisWithPassword, "inspect", Password]);
        Assert.True(exit == 1, $"exit {exit}: {output}");
        Assert.StartsWith("typedtasks: unexpected error (InvalidDataException: The stored state of task *** is not a TypedTasks result record", output, StringComparison.Ordinal);
        Assert.Single(output.Trim().Split('\n'));
        Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_refused_for_memory_says_Redis_is_out_of_memory_not_unreachable()
    {
        // Before, every TransportException read "cannot reach Redis ... check that redis-server is running".
        await using var full = await RedisServer.StartAsync(false, null, "--maxmemory-policy", "noeviction");
        string id;
        await using (var producer = await RedisHost.StartAsync(full.Endpoint, prefix: "tt", withWorker: false))
        {
            id = (await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2)).Id;
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
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, withWorker: false);
        var first = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 1);
        var rest = await Tasks.Add.WithClient(producer.Client).EnqueueManyAsync([(2, 2), (3, 3)]);

        var (cancelExit, canceled) = await Cli(producer.Prefix, "cancel", first.Id);
        Assert.Equal(0, cancelExit);
        Assert.Contains("Canceled", canceled, StringComparison.Ordinal);
        Assert.Equal(TaskState.Canceled, await first.GetStateAsync());

        var (purgeExit, purged) = await Cli(producer.Prefix, "purge", "default", "--yes");
        Assert.Equal(0, purgeExit);
        Assert.Contains("Deleted 3 waiting", purged, StringComparison.Ordinal);
        Assert.Equal(0, await producer.Broker.Database.ListLengthAsync(producer.Broker.Keys.Ready("default", 0)));
        Assert.NotNull(rest);
    }

    [Fact]
    public async Task Inspect_of_a_task_that_never_ran_says_not_started()
    {
        await using var producer = await RedisHost.StartAsync(redis.Server.Endpoint, withWorker: false);
        var sum = await Tasks.Add.WithClient(producer.Client).EnqueueAsync(1, 2);

        var (exit, text) = await Cli(producer.Prefix, "inspect", sum.Id);
        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^attempt\s+not started$", text);
        Assert.DoesNotContain("runs", text, StringComparison.Ordinal);
        var (_, json) = await Cli(producer.Prefix, "inspect", sum.Id, "--json");
        Assert.Equal(0, JsonDocument.Parse(json).RootElement.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Help_usage_errors_and_completion_come_from_the_parser()
    {
        var (help, text) = await Run(["--help"]);
        Assert.Equal(0, help);
        Assert.Contains("Commands:", text, StringComparison.Ordinal);
        Assert.Contains("--redis", text, StringComparison.Ordinal);

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
            ("bad option", ["--redis", $"{down},password={Password}", "status", "--frobnicate"], null, 2),
            ("bad command", ["--redis", $"{down},password={Password}", "frobnicate"], null, 2),
            ("missing argument", ["--redis", $"{down},password={Password}", "inspect"], null, 2),
            ("connection string without --redis", [$"{down},password={Password}", "status"], null, 2),
            ("bad connection string", ["--redis", $"{down},password={Password},frobnicate=1", "status"], null, 2),
            ("bad queue", ["dead", "retry", "{x}"], new() { ["TYPEDTASKS_REDIS"] = $"{down},password={Password}" }, 2),
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

        var (exit, output) = await Cli("tt", "frobnicate");
        Assert.Equal(2, exit);
        Assert.StartsWith("typedtasks: Unrecognized command or argument 'frobnicate'", output, StringComparison.Ordinal);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        var (missing, text) = await Cli("tt", "inspect", "no-such-id");
        Assert.Equal(1, missing);
        Assert.Contains("no task with id 'no-such-id'", text, StringComparison.Ordinal);
    }
}

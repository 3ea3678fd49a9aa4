using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using TypedTasks.Testing;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>The typedtasks tool, run as a process on data a real Redis holds.</summary>
public sealed class CliTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private async Task<(int Exit, string Output)> Cli(string prefix, params string[] arguments)
    {
        await using var cli = ChildProcess.Start("TypedTasks.Cli", ["--redis", redis.Server.Endpoint, "--prefix", prefix, .. arguments]);
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
        Assert.Empty(status.GetProperty("workers").EnumerateArray());

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
    public async Task An_unreachable_Redis_or_a_bad_argument_is_one_clear_line_and_a_non_zero_exit()
    {
        var port = RedisServer.FreePort();
        await using (var down = ChildProcess.Start("TypedTasks.Cli", ["--redis", $"127.0.0.1:{port}", "status"]))
        {
            Assert.True(await down.WaitForExitAsync(TimeSpan.FromSeconds(60)), down.Output);
            Assert.Equal(3, down.ExitCode);
            Assert.StartsWith($"typedtasks: cannot reach Redis at 127.0.0.1:{port}", down.Output, StringComparison.Ordinal);
            Assert.Single(down.Output.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", down.Output, StringComparison.Ordinal);
        }

        var (exit, output) = await Cli("tt", "frobnicate");
        Assert.Equal(2, exit);
        Assert.StartsWith("typedtasks: unknown command 'frobnicate'", output, StringComparison.Ordinal);
        var (missing, text) = await Cli("tt", "inspect", "no-such-id");
        Assert.Equal(1, missing);
        Assert.Contains("no task with id 'no-such-id'", text, StringComparison.Ordinal);
    }
}

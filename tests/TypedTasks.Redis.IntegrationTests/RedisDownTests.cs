using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Testing;
using TypedTasks.TestWorker;
using TypedTasks.Transport;
using Xunit.Abstractions;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>A worker and a producer while Redis is down: short lines that say what to check, never the password.</summary>
public sealed class RedisDownTests(ITestOutputHelper output)
{
    private const string Password = "TopSecret-5d1e";

    [Fact]
    public async Task With_Redis_down_each_failure_is_one_short_line_that_says_what_to_check_and_the_recovery_is_logged()
    {
        // With the append-only file, so that the task running across the outage is still there after it.
        await using var redis = await RedisServer.StartAsync(
            true, (port, _) => ConfigurationOptions.Parse($"127.0.0.1:{port},password={Password}"), "--requirepass", Password);
        var logs = new CapturedLogs();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.Services.AddTypedTasks(o => o.UseRedis($"{redis.Endpoint},password={Password}", r => r.KeyPrefix = RedisHost.NewPrefix())).AddWorker();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<TaskClient>();
        Assert.Equal(5, await (await Tasks.Add.WithClient(client).EnqueueAsync(2, 3)).GetAsync(RedisHost.Wait));

        // A task running when Redis goes: its outcome write fails through the outage and is
        // recorded after it, with one line, not a stack trace per retry.
        var running = await Tasks.SlowAdd.WithClient(client).EnqueueAsync(1, 2, 1500);
        await Poll.UntilAsync(async () => await running.GetStateAsync() == TaskState.Started, "the slow task starts");

        redis.Kill();
        var before = logs.Entries.Count;
        var enqueueing = Assert.ThrowsAsync<TransportException>(() => Tasks.Add.WithClient(client).EnqueueAsync(1, 1));
        await Task.Delay(TimeSpan.FromSeconds(18));
        var down = logs.Entries.Skip(before).ToList();
        var lines = down.Sum(e => e.Split('\n').Length);
        output.WriteLine($"{down.Count} entries, {lines} lines in 18 s with Redis down:{Environment.NewLine}{string.Join(Environment.NewLine, down)}");
        var enqueue = await enqueueing;

        // The enqueue: one line that names the endpoint and what to check; the client's dump is kept inside.
        Assert.DoesNotContain('\n', enqueue.Message);
        Assert.Contains(redis.Endpoint, enqueue.Message, StringComparison.Ordinal);
        Assert.Contains("redis-server", enqueue.Message, StringComparison.Ordinal);
        Assert.Contains("TypedTasks:Redis", enqueue.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, enqueue.Message, StringComparison.Ordinal);
        Assert.NotNull(enqueue.InnerException);

        // The worker: a few one-line entries (with backoff), none with a stack trace, the first with the advice.
        Assert.NotEmpty(down);
        Assert.InRange(lines, 1, 25);
        Assert.All(down, e => Assert.DoesNotContain("   at ", e, StringComparison.Ordinal));
        var first = down.First(e => e.Contains(redis.Endpoint, StringComparison.Ordinal));
        Assert.Contains("redis-server", first, StringComparison.Ordinal);
        Assert.Contains("TypedTasks:Redis", first, StringComparison.Ordinal);

        await redis.RestartAsync(TimeSpan.Zero);
        await Poll.UntilAsync(() => Task.FromResult(logs.Entries.Any(e => e.Contains("works again", StringComparison.Ordinal))), "the recovery is logged", TimeSpan.FromSeconds(60));
        Assert.Equal(7, await (await Tasks.Add.WithClient(client).EnqueueAsync(3, 4)).GetAsync(RedisHost.Wait));
        Assert.Equal(3, await running.GetAsync(RedisHost.Wait));
        Assert.Contains(down, e => e.Contains("Recording a task's outcome failed", StringComparison.Ordinal));
        await host.StopAsync();

        // Nothing logged at any level, first to last, shows the password.
        Assert.All(logs.Entries, e => Assert.DoesNotContain(Password, e, StringComparison.Ordinal));
    }
}

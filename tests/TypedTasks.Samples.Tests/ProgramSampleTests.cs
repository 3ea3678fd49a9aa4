using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using TypedTasks.Testing;

namespace TypedTasks.Samples.Tests;

/// <summary>The quickstart and the distributed sample, run as their READMEs say.</summary>
public sealed class ProgramSampleTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_quickstart_runs_to_the_end_on_the_in_memory_broker_and_on_Redis()
    {
        await using (var inMemory = ChildProcess.Start("Quickstart", []))
        {
            Assert.True(await inMemory.WaitForExitAsync(Limit), inMemory.Output);
            Assert.Equal(0, inMemory.ExitCode);
            Assert.Contains("The worker answered 5", inMemory.Output, StringComparison.Ordinal);
            Assert.Contains("System.DivideByZeroException", inMemory.Output, StringComparison.Ordinal);
            Assert.Contains("answered on attempt 3", inMemory.Output, StringComparison.Ordinal);
            Assert.Contains("Done.", inMemory.Output, StringComparison.Ordinal);
        }

        await using var redis = await RedisServer.StartAsync();
        await using var onRedis = ChildProcess.Start("Quickstart", ["--redis", redis.Endpoint]);
        Assert.True(await onRedis.WaitForExitAsync(Limit), onRedis.Output);
        Assert.Equal(0, onRedis.ExitCode);
        Assert.Contains($"on Redis at {redis.Endpoint}", onRedis.Output, StringComparison.Ordinal);
        Assert.Contains("Done.", onRedis.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_quickstart_with_Redis_down_says_so_in_one_line_exits_non_zero_and_never_prints_the_password()
    {
        // Nothing listens on the port: the first enqueue cannot reach Redis.
        var endpoint = $"127.0.0.1:{RedisServer.FreePort()}";
        await using var quickstart = ChildProcess.Start("Quickstart", ["--redis", $"{endpoint},password=s3cret-word,connectTimeout=1000"]);

        Assert.True(await quickstart.WaitForExitAsync(Limit), quickstart.Output);
        Assert.NotEqual(0, quickstart.ExitCode);
        Assert.Contains($"on Redis at {endpoint},", quickstart.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-word", quickstart.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", quickstart.Output, StringComparison.Ordinal);
        var lines = quickstart.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length <= 3, quickstart.Output);
        Assert.DoesNotContain(lines, l => l.StartsWith("at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_quickstart_refuses_arguments_it_does_not_understand_instead_of_running_in_memory()
    {
        // Input: --redis without its value, an unknown option, and a password split from its host.
        foreach (var arguments in new[] { new[] { "--redis" }, ["--bogus"], ["--redis", "--bogus"], ["--redis", "127.0.0.1:6379", "password=s3cret-word"] })
        {
            await using var quickstart = ChildProcess.Start("Quickstart", arguments);
            Assert.True(await quickstart.WaitForExitAsync(Limit), quickstart.Output);
            Assert.True(quickstart.ExitCode == 2, $"{string.Join(' ', arguments)}: exit {quickstart.ExitCode}: {quickstart.Output}");
            Assert.Contains("The quickstart takes no argument, or --redis HOST:PORT", quickstart.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("in-memory", quickstart.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("s3cret-word", quickstart.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_distributed_samples_producer_with_Redis_down_says_so_in_one_line_and_exits_1()
    {
        // Input: a Redis address nothing listens on, with a password. Error: one line naming the
        // endpoint and what to check, no stack trace, no password, exit 1.
        var endpoint = $"127.0.0.1:{RedisServer.FreePort()}";
        await using var producer = ChildProcess.Start("Producer", [$"--TypedTasks:Redis={endpoint},password=s3cret-word,connectTimeout=1000"]);

        Assert.True(await producer.WaitForExitAsync(Limit), producer.Output);
        Assert.True(producer.ExitCode == 1, producer.Output);
        Assert.Contains($"The producer stopped: Redis at {endpoint} could not be reached", producer.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-word", producer.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", producer.Output, StringComparison.Ordinal);
        var lines = producer.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(lines, l => l.StartsWith("at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_distributed_samples_producer_gets_its_results_from_the_worker_process()
    {
        await using var redis = await RedisServer.StartAsync();
        var setting = $"--TypedTasks:Redis={redis.Endpoint}";

        // The producer first: its tasks wait in Redis until a worker comes.
        await using var producer = ChildProcess.Start("Producer", [setting]);
        await producer.WaitForOutputAsync("waiting for a worker", Limit);
        await using var worker = ChildProcess.Start("Worker", [setting]);

        Assert.True(await producer.WaitForExitAsync(Limit), producer.Output + "\nworker:\n" + worker.Output);
        Assert.Equal(0, producer.ExitCode);
        foreach (var (customer, total) in new[] { ("Ada", "1200"), ("Grace", "1295"), ("Linus", "1390"), ("Barbara", "1485"), ("Ken", "1580"), ("Ken #4", "3005") })
        {
            Assert.Contains($"{customer}: 2 lines, total {total} (worked by ", producer.Output, StringComparison.Ordinal);
        }

        Assert.Contains($"Worker {Environment.MachineName}:{worker.Id} totalled 20 invoice(s)", producer.Output, StringComparison.Ordinal);
        worker.Terminate();
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), worker.Output);
        Assert.Equal(0, worker.ExitCode);
    }

    [Fact]
    public async Task Two_workers_of_the_distributed_sample_share_the_producers_invoices()
    {
        // What the sample's README says: start two workers and they share the work.
        await using var redis = await RedisServer.StartAsync();
        var setting = $"--TypedTasks:Redis={redis.Endpoint}";
        await using var first = ChildProcess.Start("Worker", [setting]);
        await using var second = ChildProcess.Start("Worker", [setting]);
        await first.WaitForOutputAsync("Worker started", Limit);
        await second.WaitForOutputAsync("Worker started", Limit);

        await using var producer = ChildProcess.Start("Producer", [setting]);
        Assert.True(await producer.WaitForExitAsync(Limit), producer.Output + "\nfirst:\n" + first.Output + "\nsecond:\n" + second.Output);
        Assert.Equal(0, producer.ExitCode);
        var shares = new[] { first, second }
            .Select(w => Regex.Match(producer.Output, $"Worker {Regex.Escape(Environment.MachineName)}:{w.Id} totalled (\\d+) invoice"))
            .Select(m => m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0)
            .ToArray();
        Assert.True(shares.All(n => n > 0), $"Each worker should total some invoices; shares {string.Join(", ", shares)}.\n{producer.Output}");
        Assert.Equal(20, shares.Sum());
    }
}

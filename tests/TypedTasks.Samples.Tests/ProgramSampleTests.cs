using System;
using System.Collections.Generic;
using System.Linq;
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
        foreach (var (customer, total) in new[] { ("Ada", "1200"), ("Grace", "1295"), ("Linus", "1390"), ("Barbara", "1485"), ("Ken", "1580") })
        {
            Assert.Contains($"{customer}: 2 lines, total {total} (worked by ", producer.Output, StringComparison.Ordinal);
        }

        worker.Terminate();
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), worker.Output);
        Assert.Equal(0, worker.ExitCode);
    }
}

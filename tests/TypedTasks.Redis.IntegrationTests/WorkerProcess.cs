using System;
using System.Globalization;
using System.Threading.Tasks;
using TypedTasks.Testing;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>Starts TypedTasks.TestWorker, a worker in a process of its own, and waits until it serves.</summary>
internal static class WorkerProcess
{
    public static async Task<ChildProcess> StartAsync(string redis, string prefix, int concurrency = 16, int prefetch = 16, string? queues = null)
    {
        string[] serving = queues is null ? [] : ["--queues", queues];
        var worker = ChildProcess.Start("TypedTasks.TestWorker", ["--redis", redis, "--prefix", prefix, "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture), "--prefetch", prefetch.ToString(CultureInfo.InvariantCulture), .. serving]);
        try
        {
            await worker.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
            return worker;
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
    }
}

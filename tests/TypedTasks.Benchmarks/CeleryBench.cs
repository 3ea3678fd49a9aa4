using System;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks.Celery;

namespace TypedTasks.Benchmarks;

/// <summary>The .NET side of peers/celery-interop: a Celery-queue worker and the task Python sends to it.</summary>
public static class CeleryBench
{
    /// <summary>The task of the interop benchmark; Python's bench.py registers the same name for its own worker.</summary>
    [Task("bench.celery.add")]
    public static int CeleryAdd(int x, int y) => x + y;

    /// <summary>Consumes <paramref name="queue"/> until stopped; prints "ready" once it consumes.</summary>
    public static async Task<int> RunWorkerAsync(string redis, string queue, int concurrency)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddCelery(o => o.Configuration = redis);
        builder.Services.AddCeleryWorker(o =>
        {
            o.Queues.Add(queue);
            o.Concurrency = concurrency;
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}

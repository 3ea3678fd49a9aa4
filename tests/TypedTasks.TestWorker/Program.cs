using System;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks;

// A worker process for the fault tests:
//   TypedTasks.TestWorker --redis 127.0.0.1:PORT --prefix KEYPREFIX [--concurrency N] [--prefetch N] [--queues a,b]
// It runs until SIGTERM (graceful) or SIGKILL, and prints "ready" once its worker has started.
// With --queues periodic it fires and runs the periodic task it.tick, which logs its runs to KEYPREFIX:test:runs.
var redis = Arg("--redis") ?? throw new ArgumentException("--redis HOST:PORT is required");
var prefix = Arg("--prefix") ?? "tt";
var concurrency = int.Parse(Arg("--concurrency") ?? "16", System.Globalization.CultureInfo.InvariantCulture);
var prefetch = int.Parse(Arg("--prefetch") ?? "16", System.Globalization.CultureInfo.InvariantCulture);
var queues = Arg("--queues")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
if (Array.IndexOf(queues, TypedTasks.TestWorker.PeriodicWorkerTasks.Queue) >= 0)
{
    var log = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis);
    TypedTasks.TestWorker.PeriodicWorkerTasks.RunLog = (log.GetDatabase(), prefix + ":test:runs");
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddTypedTasks(o => o.UseRedis(redis, r =>
{
    r.KeyPrefix = prefix;
    r.HeartbeatInterval = TimeSpan.FromSeconds(1);
    r.WorkerTimeout = TimeSpan.FromSeconds(5);
})).AddWorker(w =>
{
    w.Concurrency = concurrency;
    w.Prefetch = prefetch;
    w.Queues = [.. queues];
});

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");
await host.WaitForShutdownAsync();
return 0;

string? Arg(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

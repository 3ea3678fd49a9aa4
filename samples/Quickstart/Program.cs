using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quickstart;
using TypedTasks;
using TypedTasks.Transport;

// dotnet run --project samples/Quickstart                    (in-memory task store, no Redis needed)
// dotnet run --project samples/Quickstart -- --redis HOST:PORT  (the same on Redis)
// Only --redis HOST:PORT is understood: anything else (a typo, --redis without its value) would
// otherwise run in memory without a word. The arguments are not echoed: they may hold a password.
if (args.Length != 0 && (args.Length != 2 || args[0] != "--redis" || string.IsNullOrWhiteSpace(args[1]) || args[1].StartsWith('-')))
{
    Console.Error.WriteLine("The quickstart takes no argument, or --redis HOST:PORT (a StackExchange.Redis connection string): "
        + "dotnet run --project samples/Quickstart -- --redis 127.0.0.1:6379");
    return 2;
}

var builder = Host.CreateApplicationBuilder(args);
var redis = ArgValue(args, "--redis");
if (redis is not null)
{
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedTasks:Redis"] = redis });
}

builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("TypedTasks", LogLevel.None);
builder.Services.AddTypedTasks().AddWorker(w => w.Concurrency = 8);

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine(redis is null ? "TypedTasks quickstart on the in-memory task store, with a worker in this process." : $"TypedTasks quickstart on Redis at {Endpoints(redis)}, with a worker in this process.");
try
{
    await RunAsync();
}
catch (TransportException unreachable)
{
    // Redis is down or out of reach: the message says what to check, in one line.
    Console.Error.WriteLine($"The quickstart stopped: {unreachable.Message}");
    await host.StopAsync();
    return 1;
}

await host.StopAsync();
Console.WriteLine("Done.");
return 0;

static async Task RunAsync()
{
    var wait = TimeSpan.FromSeconds(30);

    // 1. A typed task: Tasks.Add.EnqueueAsync("2", 3) would not compile.
    AsyncResult<int> sum = await Tasks.Add.EnqueueAsync(2, 3);
    Console.WriteLine($"Enqueued Add(2, 3) as task {sum.Id}.");
    Console.WriteLine($"  The worker answered {await sum.GetAsync(wait)}; its state is {await sum.GetStateAsync()}.");

    // 2. Records in and out, awaited directly.
    var total = await await Tasks.Total.EnqueueAsync(new Invoice("Ada", [12.50m, 7.25m, 100m]));
    Console.WriteLine($"Invoice of {total.Customer}: {total.LineCount} lines, total {total.Total}.");

    // 3. A failure comes back as TaskFailedException with the remote type, message and stack trace.
    var division = await Tasks.Divide.EnqueueAsync(1, 0);
    try
    {
        await division.GetAsync(wait);
    }
    catch (TaskFailedException failure)
    {
        Console.WriteLine($"Divide(1, 0) failed on the worker: {failure.RemoteType}: {failure.Error.Message}");
    }

    // 4. A flaky task is retried with exponential backoff until it succeeds.
    var fetch = await Tasks.Fetch.EnqueueAsync("http://127.0.0.1/report");
    Console.WriteLine($"Fetch: {await fetch.GetAsync(wait)} (retried {(await fetch.GetInfoAsync())?.Attempt - 1} times).");

    // 5. A delayed task waits as Scheduled, then runs.
    var clock = Stopwatch.StartNew();
    var later = await Tasks.Add.With(new EnqueueOptions { Delay = TimeSpan.FromSeconds(1) }).EnqueueAsync(40, 2);
    Console.WriteLine($"Add(40, 2) delayed by one second is {await later.GetStateAsync()}.");
    Console.WriteLine($"  It answered {await later.GetAsync(wait)} after {clock.Elapsed.TotalSeconds:0.0} s.");

    // 6. A handle from an id alone, as a web API would build it from a request.
    AsyncResult<int> again = Tasks.Add.GetResult(sum.Id);
    Console.WriteLine($"Asked again by id {again.Id}: {await again.GetAsync(wait)}.");
}

// Only the endpoints of a connection string (host:port, ...): its options may hold a password.
static string Endpoints(string connection)
    => string.Join(",", connection.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(part => !part.Contains('=', StringComparison.Ordinal)));

static string? ArgValue(string[] args, string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

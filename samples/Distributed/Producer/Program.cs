using System;
using System.Collections.Generic;
using System.Linq;
using Invoicing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks;
using TypedTasks.Transport;

// A producer: no worker here. It enqueues invoices for the worker process and waits for the
// typed results. --TypedTasks:Redis=HOST:PORT, or TypedTasks__Redis, names the Redis server
// (127.0.0.1:6379 by default).
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedTasks:Redis"] = builder.Configuration["TypedTasks:Redis"] ?? "127.0.0.1:6379" });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddTypedTasks();
using var host = builder.Build();
await host.StartAsync();

// Twenty invoices, so that two workers started beside each other both get a share: each holds
// at most Concurrency + Prefetch of them at a time (2 + 1, set in the worker's Program.cs).
var customers = new[] { "Ada", "Grace", "Linus", "Barbara", "Ken" };
var orders = Enumerable.Range(0, 20)
    .Select(i => (customer: i < customers.Length ? customers[i] : $"{customers[i % customers.Length]} #{(i / customers.Length) + 1}", lines: new[] { new Line("hours", 10 + i, 95m), new Line("licence", 1, 250m) }))
    .ToList();
var byWorker = new SortedDictionary<string, int>(StringComparer.Ordinal);
try
{
    var invoices = await Invoicing.Tasks.Total.EnqueueManyAsync(orders);
    Console.WriteLine($"Enqueued {invoices.Count} invoices on queue 'invoicing'; waiting for a worker...");
    foreach (var invoice in invoices)
    {
        var summary = await invoice.GetAsync(TimeSpan.FromSeconds(60));
        Console.WriteLine($"{summary.Customer}: {summary.Lines} lines, total {summary.Total} (worked by {summary.Worker})");
        byWorker[summary.Worker] = byWorker.GetValueOrDefault(summary.Worker) + 1;
    }
}
catch (TransportException unreachable)
{
    // Redis is down or out of reach: the message says what to check (never the password), in one line.
    Console.Error.WriteLine($"The producer stopped: {unreachable.Message}");
    await host.StopAsync();
    return 1;
}

foreach (var (worker, count) in byWorker)
{
    Console.WriteLine($"Worker {worker} totalled {count} invoice(s)");
}

await host.StopAsync();
return 0;

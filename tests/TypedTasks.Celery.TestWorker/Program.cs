using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using TypedTasks.Celery;
using TypedTasks.Celery.TestWorker;

// A .NET Celery worker as its own process: args are the Redis endpoint, the queue, and the
// visibility timeout in seconds. The shared-queue test kills it with SIGKILL mid-run.
var redis = ConnectionMultiplexer.Connect(args[0] + ",abortConnect=false");
CeleryWorkerTasks.Runs = redis.GetDatabase();
var builder = Host.CreateApplicationBuilder();
builder.Services.AddCelery(o =>
{
    o.Connection = redis;
    o.VisibilityTimeout = TimeSpan.FromSeconds(double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
});
builder.Services.AddCeleryWorker(o =>
{
    o.Queues.Add(args[1]);
    o.Concurrency = 2;
});
Console.WriteLine("celery worker starting");
await builder.Build().RunAsync();

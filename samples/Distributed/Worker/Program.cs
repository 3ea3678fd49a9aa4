using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedTasks;

// A worker service: it runs the tasks of the Invoicing library, which it never references in
// code. TypedTasks:Redis comes from appsettings.json, the environment (TypedTasks__Redis) or the
// command line (--TypedTasks:Redis=HOST:PORT). Stop it with Ctrl+C or SIGTERM: running tasks
// finish, unstarted ones go back to their queue.
var builder = Host.CreateApplicationBuilder(args);
// Two tasks at a time and one held ready: a worker holds at most Concurrency + Prefetch tasks,
// so two workers started side by side share even a short burst. With the defaults (16 + 16) the
// first worker to fetch would take all twenty invoices of the producer.
builder.Services.AddTypedTasks().AddWorker(w =>
{
    w.Queues = ["invoicing"];
    w.Concurrency = 2;
    w.Prefetch = 1;
});
var host = builder.Build();
await host.RunAsync();

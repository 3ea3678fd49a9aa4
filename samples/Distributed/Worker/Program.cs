using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedTasks;

// A worker service: it runs the tasks of the Invoicing library, which it never references in
// code. TypedTasks:Redis comes from appsettings.json, the environment (TypedTasks__Redis) or the
// command line (--TypedTasks:Redis=HOST:PORT). Stop it with Ctrl+C or SIGTERM: running tasks
// finish, unstarted ones go back to their queue.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTypedTasks().AddWorker(w => w.Queues = ["invoicing"]);
var host = builder.Build();
await host.RunAsync();

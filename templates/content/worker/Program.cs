using TypedTasks;
using TypedTasksWorker;

// A worker service that runs the tasks of this project (WorkerTasks.cs).
// The task store is in memory unless TypedTasks:Redis is set: in appsettings.json, in the environment
// (TypedTasks__Redis=localhost:6379) or on the command line (--TypedTasks:Redis=localhost:6379).
// On Redis, producers and workers can be separate processes that share the task classes.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTypedTasks().AddWorker();

// Sends a task every few seconds so that there is something to see; remove it once your tasks
// are sent from elsewhere (a web API, another service).
builder.Services.AddHostedService<Producer>();

var host = builder.Build();
host.Run();

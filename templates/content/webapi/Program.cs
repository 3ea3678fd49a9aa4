using TypedTasks;
using TypedTasksWebApi;

// A request hands slow work to a worker and answers at once; the client asks for the status by id.
//   POST /reports?title=q3   -> 202 Accepted, {"id": "..."}, Location: /reports/{id}
//   GET  /reports/{id}       -> 200 {"id", "state"} (with "report" once succeeded, "error" once failed), or 404
// The broker is in memory unless TypedTasks:Redis is set (appsettings.json, TypedTasks__Redis=host:port).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProblemDetails();

// The worker runs in this process. With Redis, remove AddWorker() to run workers elsewhere
// (for example a typedtasks-worker project that references the same task classes).
builder.Services.AddTypedTasks().AddWorker();

var app = builder.Build();

app.MapPost("/reports", async (string? title, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(title))
    {
        return Results.ValidationProblem(
            new Dictionary<string, string[]> { ["title"] = ["title is missing."] },
            detail: "Call POST /reports?title=q3.");
    }

    var task = await Tasks.BuildReport.EnqueueAsync(title, ct);
    return Results.Accepted($"/reports/{task.Id}", new { id = task.Id });
});

app.MapGet("/reports/{id}", async (string id, CancellationToken ct) =>
{
    var task = Tasks.BuildReport.GetResult(id);
    var info = await task.GetInfoAsync(ct);
    return info switch
    {
        null => Results.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "No such report",
            detail: $"No task with id '{id}' is known: it was never enqueued, or its result has expired."),
        { State: TaskState.Succeeded } => Results.Ok(new { id, state = info.State.ToString(), report = await task.GetAsync(TimeSpan.FromSeconds(5), ct) }),
        { State: TaskState.Failed } => Results.Ok(new { id, state = info.State.ToString(), error = info.Error?.Message }),
        _ => Results.Ok(new { id, state = info.State.ToString() }),
    };
});

app.Run();

using TypedTasks;
using TypedTasks.Transport;
using TypedTasksWebApi;

// A request hands slow work to a worker and answers at once; the client asks for the status by id.
//   POST /reports?title=q3   -> 202 Accepted, {"id": "..."}, Location: /reports/{id}
//   GET  /reports/{id}       -> 200 {"id", "state"} (with "report" once succeeded, "error" once failed), or 404
// Errors answer with problem details: 503 while Redis cannot be reached, 500 for anything else.
// The task store is in memory unless TypedTasks:Redis is set (appsettings.json, TypedTasks__Redis=host:port).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = problem =>
{
    // The client learns why and when to come back; the endpoint and what to check stay in the log.
    if (problem.Exception is TransportException)
    {
        problem.ProblemDetails.Detail = "The task store cannot be reached for now: try again later.";
        problem.HttpContext.Response.Headers.RetryAfter = "5";
    }
});

// The worker runs in this process. With Redis, remove AddWorker() to run workers elsewhere
// (for example a typedtasks-worker project that references the same task classes).
builder.Services.AddTypedTasks().AddWorker();

var app = builder.Build();

// An unexpected error answers with a problem-details body, never an empty 500; an unreachable
// store (Redis down) is a 503, which tells the client to try again later.
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = e => e is TransportException ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
});

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
    if (string.IsNullOrWhiteSpace(id))
    {
        // No task has a blank id; GetResult would reject it.
        return Results.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "No such report",
            detail: "The id is blank: use the id that POST /reports returned.");
    }

    var task = Tasks.BuildReport.GetResult(id);
    TaskInfo? info;
    try
    {
        info = await task.GetInfoAsync(ct);
    }
    catch (TaskNotFoundException lost)
    {
        // The store knows the task existed and lost it (Redis restarted without its data).
        return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Report lost", detail: lost.Message);
    }

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

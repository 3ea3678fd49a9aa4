using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TypedTasks;
using TypedTasks.Dashboard;
using TypedTasks.Transport;
using WebApi;

// The web-view case: a request hands slow work to a worker and answers at once; the client asks
// for the task's status by id.
//
//   dotnet run --project samples/WebApi -- --urls http://127.0.0.1:5080
//   TypedTasks__Redis=127.0.0.1:6379 dotnet run --project samples/WebApi -- --urls http://127.0.0.1:5080
//
// Without TypedTasks:Redis the in-memory task store is used. WebApi:Worker=false runs no worker here
// (producer only), for when workers run elsewhere.
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
var typed = builder.Services.AddTypedTasks();
if (builder.Configuration.GetValue("WebApi:Worker", defaultValue: true))
{
    typed.AddWorker();
}

builder.Services.AddTypedTasksDashboard();

var app = builder.Build();

// An unexpected error answers with a problem-details body, never an empty 500; an unreachable
// store (Redis down) is a 503, which tells the client to try again later.
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = e => e is TransportException ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
});

// POST /add?x=2&y=3 → 202 Accepted, {"id": "..."}, Location: /tasks/{id}
app.MapPost("/add", async (string? x, string? y, CancellationToken ct) =>
{
    var errors = new Dictionary<string, string[]>();
    var left = ParseInt("x", x, errors);
    var right = ParseInt("y", y, errors);
    if (errors.Count > 0)
    {
        return Results.ValidationProblem(errors, title: "x and y must be whole numbers", detail: "Call POST /add?x=2&y=3.");
    }

    var task = await Tasks.Add.EnqueueAsync(left, right, ct);
    return Results.Accepted($"/tasks/{task.Id}", new { id = task.Id });
});

// GET /tasks/{id} → 200 {"id", "state", "result"} once succeeded, {"id", "state", "error"} once
// failed; 404 for a blank id, for an id that was never enqueued (or whose result has expired), and
// for the id of a task that is not an add (another app's task on the same Redis, say): this API
// reports only the tasks it enqueues, whose result it knows how to read.
app.MapGet("/tasks/{id}", async (string id, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(id))
    {
        // No task has a blank id; GetResult would reject it.
        return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such task", detail: "The id is blank: use the id that POST /add returned.");
    }

    var task = Tasks.Add.GetResult(id);
    TaskInfo? info;
    try
    {
        info = await task.GetInfoAsync(ct);
    }
    catch (TaskNotFoundException lost)
    {
        // The store knows the task existed and lost it (Redis restarted without its data).
        return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Task lost", detail: lost.Message);
    }

    if (info is null)
    {
        return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such task", detail: $"No task with id '{id}' is known (never enqueued, or its result has expired).");
    }

    if (!string.Equals(info.TaskName, Tasks.Add.Descriptor.Name, StringComparison.Ordinal))
    {
        return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not an add task", detail: $"Task '{id}' is a '{info.TaskName}' task; this API reports only the '{Tasks.Add.Descriptor.Name}' tasks it enqueues.");
    }

    return info.State switch
    {
        TaskState.Succeeded => Results.Ok(new { id, state = info.State.ToString(), result = await task.GetAsync(TimeSpan.FromSeconds(5), ct) }),
        TaskState.Failed => Results.Ok(new { id, state = info.State.ToString(), error = new { type = info.Error?.Type, message = info.Error?.Message } }),
        _ => Results.Ok(new { id, state = info.State.ToString() }),
    };
});

// The dashboard: queues, workers and tasks, live, at /dashboard. It answers only requests from
// this machine until a policy is attached: app.MapTypedTasksDashboard("/dashboard").RequireAuthorization("ops").
app.MapTypedTasksDashboard("/dashboard");

app.Run();

static int ParseInt(string name, string? text, Dictionary<string, string[]> errors)
{
    if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
    {
        return value;
    }

    errors[name] = [text is null ? $"{name} is missing." : $"'{text}' is not a whole number."];
    return 0;
}

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;

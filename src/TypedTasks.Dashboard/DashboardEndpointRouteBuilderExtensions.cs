using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedTasks.Dashboard.Live;
using TypedTasks.Dashboard.Operations;
using TypedTasks.Dashboard.Pages;
using TypedTasks.Dashboard.Security;
using TypedTasks.Inspection;
using TypedTasks.Scheduling;

namespace TypedTasks.Dashboard;

/// <summary>Mounts the dashboard in an ASP.NET Core app: <c>app.MapTypedTasksDashboard("/tasks")</c>.</summary>
public static class DashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Mounts the dashboard under <paramref name="prefix"/>. It answers only requests from this
    /// machine until an authorization policy is attached to what this returns
    /// (<c>.RequireAuthorization("ops")</c>) or <see cref="DashboardOptions.AllowRemoteRequests"/> is set.
    /// Needs <c>builder.Services.AddTypedTasks(...)</c> and <c>builder.Services.AddTypedTasksDashboard()</c>.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="prefix">The path the dashboard answers under, such as <c>/tasks</c>.</param>
    /// <param name="configure">Its options: read-only, an operations policy, the live interval, the page size.</param>
    /// <returns>The dashboard's endpoint group, for conventions such as <c>RequireAuthorization</c>.</returns>
    public static RouteGroupBuilder MapTypedTasksDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/tasks", Action<DashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var options = new DashboardOptions();
        configure?.Invoke(options);
        options.Validate();
        prefix = "/" + prefix.Trim('/');
        if (prefix == "/")
        {
            prefix = string.Empty;
        }

        var services = endpoints.ServiceProvider;
        var inspector = services.GetService<ITaskInspector>() ?? throw new InvalidOperationException(
            "MapTypedTasksDashboard needs TypedTasks in the app's services: call builder.Services.AddTypedTasks(...) before building the app.");
        var antiforgery = services.GetService<IAntiforgery>() ?? throw new InvalidOperationException(
            "MapTypedTasksDashboard needs the dashboard's services: call builder.Services.AddTypedTasksDashboard() before building the app.");
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("TypedTasks.Dashboard") ?? NullLogger.Instance;
        var stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var live = new LiveFeed(inspector, options.LiveInterval, logger, stopping);
        var bulk = new BulkOperations(logger, stopping);
        var operationsPolicy = options.OperationsPolicy is { } policy ? new AuthorizeAttribute(policy) : null;

        var group = endpoints.MapGroup(prefix);
        group.AddEndpointFilter(new AccessFilter(options, operationsPolicy));
        group.ExcludeFromDescription();
        DashboardContext Context(HttpContext http) => new(http, prefix, options, antiforgery);

        group.MapGet("/", (HttpContext http, string? window, CancellationToken ct) => OverviewPage.RenderAsync(Context(http), inspector, window, ct));
        group.MapGet("/queue", (HttpContext http, string? name, string? state, long? offset, CancellationToken ct) => QueuePage.RenderAsync(Context(http), inspector, name, state, offset ?? 0, ct));
        group.MapGet("/task", (HttpContext http, string? id, CancellationToken ct) => TaskPage.RenderAsync(Context(http), inspector, id, ct));
        group.MapGet("/workers", (HttpContext http, CancellationToken ct) => WorkersPage.RenderAsync(Context(http), inspector, ct));
        group.MapGet("/limits", (HttpContext http, string? name, CancellationToken ct) => LimitsPage.RenderAsync(Context(http), inspector, name, ct));
        group.MapGet("/held", (HttpContext http, string? name, string? key, string? kind, long? offset, CancellationToken ct) => LimitsPage.RenderHeldAsync(Context(http), inspector, name, key, kind, offset ?? 0, ct));
        group.MapGet("/workflow", (HttpContext http, string? id, CancellationToken ct) => WorkflowPage.RenderAsync(Context(http), inspector, id, ct));

        // The app's own schedules know its [Periodic] tasks that no worker has stored yet; the inspector only what is stored.
        var schedules = services.GetService<ITaskSchedules>();
        group.MapGet("/schedules", (HttpContext http, CancellationToken ct) => SchedulesPage.RenderAsync(Context(http), schedules is null ? inspector.GetSchedulesAsync : schedules.ListAsync, ct));
        group.MapGet("/jobs", (HttpContext http, string? id) => JobPage.Render(Context(http), bulk.Find(id)));
        group.MapGet("/events", (HttpContext http, CancellationToken ct) =>
        {
            SecurityHeaders.Apply(http.Response);
            return TypedResults.ServerSentEvents(live.ListenAsync(ct), eventType: "counts");
        });
        group.MapGet("/assets/{file}", (HttpContext http, string file) => Asset(http, file));

        var ops = group.MapGroup("/ops");
        ops.AddEndpointFilter(new OperationFilter(options, antiforgery));
        ops.DisableAntiforgery(); // validated by OperationFilter, with no need for the app's antiforgery middleware
        if (operationsPolicy is not null)
        {
            ops.RequireAuthorization(operationsPolicy);
        }

        ops.MapPost("/retry", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByTaskId, "Retried", id => inspector.RetryAsync(id, ct), "is not failed, has no task to run again (a group's own result: retry its failed members), or is no longer stored"));
        ops.MapPost("/requeue", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByTaskId, "Sent to run now", id => inspector.RequeueAsync(id, ct), "cannot run now (pending, running, succeeded, or no longer stored)"));
        ops.MapPost("/cancel", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByTaskId, "Canceled", id => inspector.CancelAsync(id, ct), "had already ended (or is no longer stored)"));
        ops.MapPost("/delete", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByTaskId, "Deleted", id => inspector.DeleteAsync(id, ct), "is running (cancel it first) or no longer stored"));
        ops.MapPost("/retry-all", (HttpContext http, CancellationToken _) => ManyAsync(Context(http), bulk, (queue, _) => ($"Retry all failed tasks of {queue}", (p, ct) => inspector.RetryAllFailedAsync(queue, p, ct))));
        ops.MapPost("/delete-all", (HttpContext http, CancellationToken _) => ManyAsync(Context(http), bulk, (queue, state) => state is { } s
            ? ($"Delete all {s.ToString().ToLowerInvariant()} tasks of {queue}", (p, ct) => inspector.DeleteAllAsync(queue, s, p, ct))
            : null));
        ops.MapPost("/purge", (HttpContext http, CancellationToken _) => ManyAsync(Context(http), bulk, (queue, _) => ($"Purge {queue}", (p, ct) => inspector.PurgeAsync(queue, p, ct))));
        ops.MapPost("/schedule-pause", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByScheduleName, "Paused", name => inspector.PauseScheduleAsync(name, ct), NoSchedule));
        ops.MapPost("/schedule-resume", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByScheduleName, "Resumed", name => inspector.ResumeScheduleAsync(name, ct), NoSchedule));
        ops.MapPost("/schedule-trigger", (HttpContext http, CancellationToken ct) => OneAsync(Context(http), ByScheduleName, "Triggered", name => inspector.TriggerScheduleAsync(name, ct), NoSchedule));
        return group;
    }

    private const string NoSchedule = "is no stored schedule (removed, or not stored by a worker yet)";

    private static readonly (string Field, string Noun) ByTaskId = ("id", "task");

    private static readonly (string Field, string Noun) ByScheduleName = ("name", "schedule");

    /// <summary>An operation on one task (by its <c>id</c>) or one schedule (by its <c>name</c>), back to the page it came from with what was done.</summary>
    private static async Task<IResult> OneAsync(DashboardContext ctx, (string Field, string Noun) target, string verb, Func<string, Task<bool>> operation, string refusal)
    {
        var form = await ctx.Http.Request.ReadFormAsync(ctx.Http.RequestAborted).ConfigureAwait(false);
        var id = form[target.Field].ToString();
        if (string.IsNullOrWhiteSpace(id))
        {
            return Results.Text($"The form names no {target.Noun}: it needs a non-blank '{target.Field}'.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        string notice;
        try
        {
            notice = await operation(id).ConfigureAwait(false) ? $"{verb}: {id}" : $"Nothing done: {id} {refusal}.";
        }
        catch (Exception refused) when (refused is ArgumentException or InvalidOperationException)
        {
            // Refused by what the store holds (a name no schedule can have, a schedule it cannot read): said on the page, nothing changed.
            notice = $"Nothing done: {refused.Message}";
        }

        return Results.Redirect(WithNotice(ctx.SafeReturn(form["return"]), notice));
    }

    private static async Task<IResult> ManyAsync(DashboardContext ctx, BulkOperations bulk, Func<string, TaskState?, (string Description, Func<IProgress<int>, CancellationToken, Task<int>> Work)?> plan)
    {
        var form = await ctx.Http.Request.ReadFormAsync(ctx.Http.RequestAborted).ConfigureAwait(false);
        var queue = form["queue"].ToString();
        if (InspectorModel.QueueNameProblem(queue) is { } problem)
        {
            return Results.Text($"The form's queue is not valid: {problem}.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        TaskState? state = null;
        if (form.ContainsKey("state"))
        {
            if (!StateNames.TryParse(form["state"], out var parsed))
            {
                return Results.Text($"The form's state '{form["state"]}' is not a task state.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
            }

            state = parsed;
        }

        if (plan(queue, state) is not { } what)
        {
            return Results.Text("The form needs a 'state' for this operation.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        var job = bulk.Start(what.Description, queue, what.Work);
        return Results.Redirect(ctx.Link("jobs?id=" + job.Id));
    }

    private static string WithNotice(string url, string notice)
        => url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "done=" + Uri.EscapeDataString(notice);

    private static IResult Asset(HttpContext http, string file)
    {
        var type = Path.GetExtension(file) switch
        {
            ".css" => "text/css; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            _ => null,
        };
        var stream = type is null ? null : typeof(DashboardOptions).Assembly.GetManifestResourceStream("TypedTasks.Dashboard.Assets." + file);
        if (stream is null)
        {
            return Results.NotFound();
        }

        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "public, max-age=3600";
        return Results.Stream(stream, type);
    }
}

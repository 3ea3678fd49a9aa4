using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Pages;

/// <summary>One task: its state and timeline, arguments with their names, result or error with its stack, and what may be done to it.</summary>
internal static class TaskPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, ITaskInspector inspector, string? id, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return Layout.Page(ctx, "No such task", "overview", h => h.Raw("<p class=\"error\">The id is blank: open a task from its queue's list.</p>"), StatusCodes.Status400BadRequest);
        }

        TaskDetails? task;
        try
        {
            task = await inspector.GetTaskAsync(id, ct).ConfigureAwait(false);
        }
        catch (TaskNotFoundException lost)
        {
            return Layout.Page(ctx, "Task lost", "overview", h => h.Raw("<p class=\"error\">").Text(lost.Message).Raw("</p>"), StatusCodes.Status404NotFound);
        }

        if (task is null)
        {
            return Layout.Page(ctx, "No such task", "overview", h => h.Raw("<p class=\"error\">").Text($"No task with id '{id}' is stored: never enqueued, deleted, or its record has expired.").Raw("</p>"), StatusCodes.Status404NotFound);
        }

        // A task that ended keeps its result, not its message: the workflow is then known from its id.
        var workflow = task.Headers.TryGetValue("tt-workflow", out var header) ? header
            : await IsWorkflowTaskAsync(inspector, task.Id, ct).ConfigureAwait(false) ? task.Id[..task.Id.IndexOf('.', System.StringComparison.Ordinal)]
            : null;
        return Layout.Page(ctx, "Task " + task.Id, "overview", h =>
        {
            h.Raw("<p><span class=\"state ").Raw(StateNames.Css(task.State)).Raw("\">").Text(task.State.ToString()).Raw("</span> ").Text(task.TaskName)
                .Raw(" in <a href=\"").Text(ctx.Link("queue?name=" + Html.Url(task.Queue) + "&state=" + task.State)).Raw("\">").Text(task.Queue).Raw("</a></p>");
            h.Raw("<div class=\"ops\">");
            Operations(h, ctx, task.Id, task.State);
            h.Raw("</div><dl class=\"facts\">");
            Fact(h, "Attempt", task.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Fact(h, "Priority", task.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture));
            h.Raw("<dt>Enqueued</dt><dd>").Time(task.EnqueuedAt).Raw("</dd>");
            if (task.Eta is not null)
            {
                h.Raw("<dt>Not before</dt><dd>").Time(task.Eta).Raw("</dd>");
            }

            if (task.DueAt is not null)
            {
                h.Raw("<dt>Due</dt><dd>").Time(task.DueAt).Raw("</dd>");
            }

            if (task.ExpiresAt is not null)
            {
                h.Raw("<dt>Expires</dt><dd>").Time(task.ExpiresAt).Raw("</dd>");
            }

            h.Raw("<dt>Updated</dt><dd>").Time(task.UpdatedAt).Raw("</dd>");
            Fact(h, "Worker", task.Worker);
            if (workflow is not null)
            {
                h.Raw("<dt>Workflow</dt><dd><a id=\"workflow\" href=\"").Text(ctx.Link("workflow?id=" + Html.Url(task.Id))).Raw("\">").Text(workflow).Raw("</a></dd>");
            }

            Fact(h, "Message", task.EnvelopeSize.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " bytes");
            h.Raw("</dl>");
            if (task.EnvelopeProblem is not null)
            {
                h.Raw("<p class=\"error\">The message cannot be read: ").Text(task.EnvelopeProblem).Raw("</p>");
            }

            if (task.Arguments is not null)
            {
                h.Raw("<h2>Arguments</h2><pre class=\"json\" id=\"arguments\">").Text(task.Arguments).Raw("</pre>");
                if (!task.ArgumentsNamed)
                {
                    h.Raw("<p class=\"hint\">Shown by position: this process does not know the task's parameter names.</p>");
                }
            }

            if (task.Result is not null)
            {
                h.Raw("<h2>Result</h2><pre class=\"json\" id=\"result\">").Text(task.Result).Raw("</pre>");
            }

            if (task.ErrorType is not null || task.ErrorMessage is not null)
            {
                h.Raw("<h2>Error of attempt ").Number(task.Attempt).Raw("</h2><p class=\"error\" id=\"error\"><strong>").Text(task.ErrorType).Raw("</strong>: ").Text(task.ErrorMessage).Raw("</p>");
                if (task.ErrorStackTrace is not null)
                {
                    h.Raw("<pre class=\"stack\">").Text(task.ErrorStackTrace).Raw("</pre>");
                }
            }

            if (task.Headers.Count > 0)
            {
                h.Raw("<h2>Headers</h2><dl class=\"facts\">");
                foreach (var (key, value) in task.Headers.OrderBy(p => p.Key, System.StringComparer.Ordinal))
                {
                    Fact(h, key, value);
                }

                h.Raw("</dl>");
            }
        });
    }

    /// <summary>The buttons that apply to a task in <paramref name="state"/>, as the inspector defines them.</summary>
    public static void Operations(Html h, DashboardContext ctx, string id, TaskState state)
    {
        if (state == TaskState.Failed)
        {
            Layout.Form(h, ctx, "retry", "Retry", "primary", ("id", id));
        }
        else if (state is TaskState.Canceled or TaskState.Expired or TaskState.Scheduled or TaskState.Retrying)
        {
            Layout.Form(h, ctx, "requeue", "Run now", "primary", ("id", id));
        }

        if (state is TaskState.Pending or TaskState.Scheduled or TaskState.Started or TaskState.Retrying)
        {
            Layout.Form(h, ctx, "cancel", "Cancel", "warn", ("id", id));
        }

        if (state != TaskState.Started)
        {
            Layout.Form(h, ctx, "delete", "Delete", "danger", ("id", id));
        }
    }

    private static void Fact(Html h, string label, string? value)
        => h.Raw("<dt>").Text(label).Raw("</dt><dd>").Text(value ?? "–").Raw("</dd>");

    /// <summary>
    /// Whether the task <paramref name="id"/> is a step or member of a workflow the store keeps, for a
    /// task whose message is gone (a task that succeeded keeps its result, not its headers): at most two
    /// reads, and only for an id shaped as a workflow's (<c>w.k@queue</c>, <c>w.0.i@queue</c>).
    /// </summary>
    private static async Task<bool> IsWorkflowTaskAsync(ITaskInspector inspector, string id, CancellationToken ct)
    {
        var at = id.LastIndexOf('@');
        var parts = at > 0 ? id[..at].Split('.') : [];
        if (parts.Length is < 2 or > 3 || parts[0].Length != 16 || !parts[0].All(char.IsAsciiHexDigitLower)
            || !parts.Skip(1).All(p => p.Length > 0 && p.All(char.IsAsciiDigit))
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var stage) || stage == int.MaxValue)
        {
            return false;
        }

        if (await inspector.GetWorkflowAsync(id, ct).ConfigureAwait(false) is not null)
        {
            return true;
        }

        // A member or a first call: the join of the step after it.
        var next = await inspector.GetWorkflowAsync(parts[0] + "." + (stage + 1).ToString(CultureInfo.InvariantCulture) + "@" + id[(at + 1)..], ct).ConfigureAwait(false);
        return next is { Stages.Count: > 0 } && string.Equals(next.WorkflowId, parts[0], System.StringComparison.Ordinal);
    }
}

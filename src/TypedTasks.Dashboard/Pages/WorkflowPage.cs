using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Pages;

/// <summary>A workflow: its stages in order, each member with its state and a link to it, and where it stopped.</summary>
internal static class WorkflowPage
{
    /// <summary>Members shown per stage: a chord of thousands shows its first ones and how many more.</summary>
    public const int MaxMembersShown = 200;

    /// <summary>States read one by one for members that have not ended (the joins know only those that did).</summary>
    public const int MaxLookups = 100;

    public static async Task<IResult> RenderAsync(DashboardContext ctx, ITaskInspector inspector, string? id, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return Layout.Page(ctx, "No such workflow", string.Empty, h => h.Raw("<p class=\"error\">The id is blank: open a workflow from one of its tasks' pages.</p>"), StatusCodes.Status400BadRequest);
        }

        var workflow = await inspector.FindWorkflowAsync(id, ct).ConfigureAwait(false);
        if (workflow is null)
        {
            return Layout.Page(ctx, "No such workflow", string.Empty, h => h.Raw("<p class=\"error\">")
                .Text($"No workflow is stored for '{id}': it is not a task of a workflow, or the workflow's records have expired.").Raw("</p>"), StatusCodes.Status404NotFound);
        }

        // Column c holds the members of stage c (after the first, the step before it); the last, the step the workflow ends with.
        var stages = workflow.Stages;
        var stoppedAt = workflow.StoppedAt;
        var columns = new List<Box[]>(stages.Count + 1);
        for (var c = 0; c < stages.Count; c++)
        {
            columns.Add(Members(stages[c], stopping: c == stoppedAt));
        }

        // The last step is where it stopped when it failed or expired itself, every stage having ended.
        columns.Add([new Box(stages[^1].StepId, null, Stopped: stoppedAt == stages.Count - 1 && stages[^1].State == "done" && workflow.StepState is TaskState.Failed or TaskState.Expired)]);
        var lookups = 0;
        var known = new Dictionary<string, TaskState?>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            for (var i = 0; i < column.Length && i < MaxMembersShown; i++)
            {
                if (column[i].State is null && lookups++ < MaxLookups)
                {
                    known[column[i].Id] = await StateAsync(inspector, column[i].Id, ct).ConfigureAwait(false);
                }
            }
        }

        var where = workflow.Where;
        return Layout.Page(ctx, "Workflow " + workflow.WorkflowId, string.Empty, h =>
        {
            h.Raw("<p class=\"where").Raw(where.StartsWith("stopped", StringComparison.Ordinal) ? " error" : string.Empty).Raw("\" id=\"where\">").Text(where).Raw("</p>");
            h.Raw("<ol class=\"workflow\">");
            for (var c = 0; c < columns.Count; c++)
            {
                h.Raw("<li class=\"stage\" data-stage=\"").Number(c + 1).Raw("\"><h2>Stage ").Number(c + 1).Raw("</h2><p class=\"hint\">");
                if (c == 0)
                {
                    h.Number(columns[0].Length).Raw(columns[0].Length == 1 ? " task" : " tasks");
                }
                else
                {
                    var made = stages[c - 1];
                    h.Raw("made when ").Number(made.Members).Raw(made.Members == 1 ? " task" : " tasks").Raw(" ended: ").Number(made.Arrived).Raw(" did, ").Text(made.State);
                }

                h.Raw("</p><ul>");
                var column = columns[c];
                for (var i = 0; i < column.Length && i < MaxMembersShown; i++)
                {
                    var box = column[i];
                    var state = box.State ?? known.GetValueOrDefault(box.Id);
                    var css = state is { } s ? StateNames.Css(s) : "unknown";
                    h.Raw("<li class=\"member ").Raw(css).Raw(box.Stopped ? " stopped" : string.Empty).Raw("\"><a href=\"").Text(ctx.Link("task?id=" + Html.Url(box.Id))).Raw("\">").Text(box.Id)
                        .Raw("</a> <span class=\"state ").Raw(css).Raw("\">").Text(state?.ToString() ?? "not read").Raw("</span>");
                    if (box.Stopped)
                    {
                        h.Raw(" <strong class=\"error\">stopped here</strong>");
                    }

                    h.Raw("</li>");
                }

                if (column.Length > MaxMembersShown)
                {
                    h.Raw("<li class=\"hint\">and ").Number(column.Length - MaxMembersShown).Raw(" more</li>");
                }

                h.Raw("</ul></li>");
            }

            h.Raw("</ol>");
            if (lookups > MaxLookups)
            {
                h.Raw("<p class=\"hint\">The states of members that had not ended are read for the first ").Number(MaxLookups).Raw(" only.</p>");
            }
        });
    }

    private static Box[] Members(WorkflowStage stage, bool stopping)
    {
        // The members that failed or expired stopped it; those canceled because of them did not. With none such, it was canceled.
        var cause = stage.Outcomes.Values.Any(o => o is TaskState.Failed or TaskState.Expired)
            ? (Func<TaskState, bool>)(o => o is TaskState.Failed or TaskState.Expired)
            : o => o != TaskState.Succeeded;
        var boxes = new Box[stage.MemberIds.Count];
        for (var i = 0; i < boxes.Length; i++)
        {
            TaskState? outcome = stage.Outcomes.TryGetValue(i, out var ended) ? ended : null;
            boxes[i] = new Box(stage.MemberIds[i], outcome, stopping && outcome is { } o && cause(o));
        }

        return boxes;
    }

    private static async Task<TaskState?> StateAsync(ITaskInspector inspector, string id, CancellationToken ct)
    {
        try
        {
            return (await inspector.GetTaskAsync(id, ct).ConfigureAwait(false))?.State;
        }
        catch (TaskNotFoundException)
        {
            return null;
        }
    }

    private readonly record struct Box(string Id, TaskState? State, bool Stopped);
}

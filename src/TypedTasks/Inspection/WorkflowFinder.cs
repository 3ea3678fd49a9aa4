using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Inspection;

/// <summary>
/// The whole workflow of any of its tasks (<see cref="ITaskInspector.FindWorkflowAsync"/>). The
/// inspector walks from a step back to the first stages; every join names the step the workflow
/// ends with (its handle), whose stages are the whole workflow.
/// For joins written without it, the steps after one are found by their ids (docs/workflows.md:
/// the successor of join <c>k</c> is <c>w.k@queue</c>), trying the step's own queue first, then the
/// other known queues.
/// </summary>
internal static class WorkflowFinder
{
    /// <summary>How many steps past the one asked about are looked for: each look walks the stages before it.</summary>
    public const int MaxForward = 50;

    /// <summary>The workflow, from its first stage to its last step found, or null when <paramref name="id"/> is no task of a workflow the store keeps.</summary>
    /// <param name="inspector">The store's inspector.</param>
    /// <param name="id">A step's or member's id (<c>w.1@queue</c>, <c>w.0.3@queue</c>) or the workflow id alone.</param>
    /// <param name="ct">Stops waiting.</param>
    public static async Task<WorkflowDetails?> FindAsync(ITaskInspector inspector, string id, CancellationToken ct)
    {
        var at = id.LastIndexOf('@');
        var local = at > 0 ? id[..at] : id;
        var queue = at > 0 ? id[(at + 1)..] : null;
        var parts = local.Split('.');
        if (parts[0].Length == 0 || parts.Length > 3)
        {
            return null;
        }

        var workflow = parts[0];
        var stage = 0;
        if (parts.Length > 1 && !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out stage))
        {
            return null;
        }

        var found = queue is null ? null : await inspector.GetWorkflowAsync(id, ct).ConfigureAwait(false);
        IReadOnlyList<string>? queues = null;

        // Every join names the workflow's handle: from a step, or from the first join of a member's
        // (or the workflow id's) workflow, the whole workflow is one more look. A step named
        // without its queue (w.k) is looked for in every known queue.
        if (found is null && (stage == 0 || queue is null))
        {
            var step = stage == 0 ? 1 : stage;
            found = queue is null ? null : await StepAsync(inspector, workflow, step, queue, ct).ConfigureAwait(false);
            if (found is null)
            {
                queues = (await inspector.GetQueuesAsync(ct).ConfigureAwait(false)).Select(q => q.Name).ToList();
                foreach (var other in queues.Where(q => q != queue))
                {
                    if (await StepAsync(inspector, workflow, step, other, ct).ConfigureAwait(false) is { } first)
                    {
                        found = first;
                        break;
                    }
                }
            }
        }

        if (found?.Handle is { } handle)
        {
            return handle == found.Stages[^1].StepId ? found : await inspector.GetWorkflowAsync(handle, ct).ConfigureAwait(false) ?? found;
        }

        // Joins written without the handle: look for the steps after this one by their ids.
        for (var next = stage + 1; next <= stage + MaxForward; next++)
        {
            WorkflowDetails? later = null;
            if (queue is not null)
            {
                later = await StepAsync(inspector, workflow, next, queue, ct).ConfigureAwait(false);
            }

            if (later is null)
            {
                queues ??= (await inspector.GetQueuesAsync(ct).ConfigureAwait(false)).Select(q => q.Name).ToList();
                foreach (var other in queues.Where(q => q != queue))
                {
                    later = await StepAsync(inspector, workflow, next, other, ct).ConfigureAwait(false);
                    if (later is not null)
                    {
                        queue = other;
                        break;
                    }
                }
            }

            if (later is null)
            {
                break;
            }

            found = later;
        }

        return found;
    }

    private static async Task<WorkflowDetails?> StepAsync(ITaskInspector inspector, string workflow, int stage, string queue, CancellationToken ct)
    {
        var details = await inspector.GetWorkflowAsync(workflow + "." + stage.ToString(CultureInfo.InvariantCulture) + "@" + queue, ct).ConfigureAwait(false);
        return details is { Stages.Count: > 0 } && string.Equals(details.WorkflowId, workflow, StringComparison.Ordinal) ? details : null;
    }
}

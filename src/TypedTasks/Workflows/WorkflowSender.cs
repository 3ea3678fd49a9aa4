using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Workflows;

/// <summary>
/// Sends a workflow (docs/workflows.md): every join first, in its successor's queue, then the first
/// stage's tasks, each linked to the join it reports to. Ids are deterministic from the workflow id:
/// member i of the first stage is <c>&lt;wf&gt;.0.&lt;i&gt;</c> (<c>&lt;wf&gt;.0</c> for one call), step k is <c>&lt;wf&gt;.&lt;k&gt;</c>.
/// </summary>
internal static class WorkflowSender
{
    /// <summary>The task name of a group's own result, which no task runs.</summary>
    public const string GroupResultName = "TypedTasks.Group";

    public static async Task<(TaskClient Client, string Id, string Name)> SendAsync(WorkflowPlan plan, CancellationToken cancellationToken)
    {
        var client = plan.Members.FirstOrDefault()?.Client ?? plan.Steps.FirstOrDefault()?.Client ?? TaskClient.Current;
        if (!plan.IsGroup && plan.Steps.Count == 0)
        {
            var call = plan.Members[0];
            return (client, await client.SendCallAsync(call, call.Options, default, cancellationToken).ConfigureAwait(false), call.Task.Name);
        }

        if (client.Store is not IWorkflowStore store)
        {
            throw new NotSupportedException($"The task store {client.Store.GetType().Name} keeps no workflows: chains, groups and chords need a store that implements IWorkflowStore (the Redis and in-memory stores do). Nothing was sent.");
        }

        var wf = NewWorkflowId();
        var marks = new CallMarks(WorkflowId: wf);
        var members = plan.Members.Select(m => client.PrepareCall(m, m.Arguments, marks)).ToList();
        var steps = plan.Steps.Select(s => client.PrepareCall(s, s.Arguments, marks, firstOpen: true)).ToList();
        var firstQueue = steps.Count > 0 ? steps[0].Queue : members.Count > 0 ? members[0].Queue : TaskDefaults.Queue;
        var memberIds = members.Select((m, i) => MemberKey(wf, plan.IsGroup, i) + "@" + m.Queue).ToList();

        var joins = new List<WorkflowJoin>(steps.Count + 1);
        for (var k = 1; k <= Math.Max(1, steps.Count); k++)
        {
            var step = k <= steps.Count ? steps[k - 1] : default;
            var queue = k <= steps.Count ? step.Queue : firstQueue;
            var link = k < steps.Count ? new WorkflowLink(steps[k].Queue, StepKey(wf, k + 1), 0) : null;
            var waitsFor = k == 1 ? memberIds : [StepKey(wf, k - 1) + "@" + steps[k - 2].Queue];
            joins.Add(new WorkflowJoin(
                queue,
                StepKey(wf, k),
                wf,
                waitsFor.Count,
                k == 1 ? plan.Mode : JoinMode.One,
                k <= steps.Count ? step.Envelope : ReadOnlyMemory<byte>.Empty,
                k <= steps.Count ? step.ArgumentAt : 0,
                k <= steps.Count ? step.Priority : 0,
                GroupResultName,
                link,
                waitsFor)
            {
                Limits = k <= steps.Count ? step.Limits : null,
            });
        }

        await store.CreateJoinsAsync(joins, cancellationToken).ConfigureAwait(false);

        var firstJoin = StepKey(wf, 1);
        var sends = new List<Task>();
        foreach (var byQueue in members.Select((m, i) => (m, i)).GroupBy(x => x.m.Queue, StringComparer.Ordinal))
        {
            var tasks = byQueue.Select(x => new TaskToEnqueue(x.m.Envelope, x.m.Priority, x.m.DueAt, MemberKey(wf, plan.IsGroup, x.i))
            {
                Link = new WorkflowLink(firstQueue, firstJoin, x.i),
                Limits = x.m.Limits,
            }).ToList();
            sends.Add(client.Store.EnqueueManyAsync(byQueue.Key, tasks, cancellationToken).AsTask());
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
        var last = joins[^1];
        return (client, last.Key + "@" + last.Queue, steps.Count > 0 ? plan.Steps[^1].Task.Name : GroupResultName);
    }

    private static string MemberKey(string wf, bool group, int i) => group ? $"{wf}.0.{i}" : wf + ".0";

    private static string StepKey(string wf, int k) => $"{wf}.{k}";

    /// <summary>16 random hex digits: workflows never share ids, in any queue.</summary>
    private static string NewWorkflowId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}

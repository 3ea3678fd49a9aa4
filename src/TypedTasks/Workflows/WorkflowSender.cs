using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Workflows;

/// <summary>
/// Sends a workflow (docs/workflows.md): every join first, each in its successor's queue, then the
/// tasks that start it, each linked to the join it reports to. Ids are deterministic from the
/// workflow id: the tasks that start it are <c>&lt;wf&gt;.0.&lt;i&gt;</c> (<c>&lt;wf&gt;.0</c> for the one
/// call a chain starts with), the successor of join k is <c>&lt;wf&gt;.&lt;k&gt;</c>. Joins are numbered
/// in the order they complete along any path (a part's inner joins before the join that waits for
/// it), so a chain's steps are 1, 2, 3… and the workflow's handle has the highest number.
/// </summary>
internal static class WorkflowSender
{
    /// <summary>The task name of a group's own result, which no task runs.</summary>
    public const string GroupResultName = "TypedTasks.Group";

    /// <summary>The most starts of one queue sent in one enqueue call.</summary>
    private const int StartPart = 128;

    /// <summary>How deep groups may nest in groups: a bound for the recursions that count and compile them (checked first, by <see cref="Starts"/>).</summary>
    private const int MaxDepth = 32;

    public static async Task<(TaskClient Client, string Id, string Name)> SendAsync(WorkflowNode workflow, CancellationToken cancellationToken)
    {
        var client = workflow.Client ?? TaskClient.Current;
        if (workflow is CallNode single)
        {
            var call = single.Call;
            return (client, await client.SendCallAsync(call, call.Options, default, cancellationToken).ConfigureAwait(false), call.Task.Name);
        }

        if (client.Store is not IWorkflowStore store)
        {
            throw new NotSupportedException($"The task store {client.Store.GetType().Name} keeps no workflows: chains, groups and chords need a store that implements IWorkflowStore (the Redis and in-memory stores do). Nothing was sent.");
        }

        var compiler = new Compiler(client, NewWorkflowId(), Starts(workflow, 0));
        var handle = compiler.Exit(workflow, null, grouped: false);
        var joins = compiler.Joins.Select(j => j with { WorkflowHandle = handle }).ToList();

        // Canceling stops a send before its first write, never after: a send stopped part way would
        // leave joins waiting for members never stored (a Redis store fails those after its grace,
        // an in-memory store has no such look), so once the joins are written the send finishes.
        cancellationToken.ThrowIfCancellationRequested();
        cancellationToken = CancellationToken.None;

        // A join that waits for nothing (an empty group) makes its successor as it is written, and
        // that successor's end goes at once to the join its link names: that one must exist first.
        await store.CreateJoinsAsync([.. joins.Where(j => j.Members > 0)], cancellationToken).ConfigureAwait(false);
        if (joins.Any(j => j.Members == 0))
        {
            await store.CreateJoinsAsync([.. joins.Where(j => j.Members == 0)], cancellationToken).ConfigureAwait(false);
        }

        // Each queue's starts go in parts, all at once: a worker starts on the first part while the
        // store writes the others (one call for a group of 1,000 would hold a Redis server for
        // milliseconds before any member could start). Then the joins are sealed: a join left
        // unsealed (the sender stopped part way) is looked at by the store's recovery, which fails
        // the members never stored (docs/workflows.md).
        var sends = compiler.Starts
            .GroupBy(s => s.Queue, StringComparer.Ordinal)
            .SelectMany(byQueue => byQueue.Chunk(StartPart).Select(part => client.Store.EnqueueManyAsync(byQueue.Key, [.. part.Select(s => s.Task)], cancellationToken).AsTask()))
            .ToList();
        await Task.WhenAll(sends).ConfigureAwait(false);
        await store.SealJoinsAsync(joins, cancellationToken).ConfigureAwait(false);
        return (client, handle, workflow is StepNode chain ? chain.Steps[^1].Call.Task.Name : GroupResultName);
    }

    /// <summary>
    /// How many calls start the workflow (those no step waits before). Refuses groups nested too
    /// deep, and a part sent with its own task id: a workflow's ids are its own, deterministic.
    /// </summary>
    private static int Starts(WorkflowNode node, int depth) => node switch
    {
        _ when depth > MaxDepth => throw new ArgumentException($"A workflow nests groups in groups at most {MaxDepth} deep. Nothing was sent.", nameof(node)),
        CallNode call => OwnId(WorkflowStep.Full(call.Call, nameof(node))) + 1,
        GroupNode group => group.Members.Sum(m => Starts(m, depth + 1)),
        StepNode chain => chain.Steps.Sum(s => OwnId(s.Call)) + Starts(chain.Before, depth),
        FanNode fan => fan.Steps.Sum(OwnId) + Starts(fan.Before, depth + 1),
        _ => throw new ArgumentOutOfRangeException(nameof(node), node, "not a workflow part"),
    };

    private static int OwnId(TaskCall call) => call.Options?.TaskId is null ? 0
        : throw new ArgumentException($"{call.Task.Name} is part of a workflow and was given EnqueueOptions.TaskId '{call.Options.TaskId}': a workflow names its tasks itself (<workflow>.<step>, docs/workflows.md); send the workflow once, or give the task its id outside a workflow. Nothing was sent.", nameof(call));

    /// <summary>How many joins <paramref name="node"/> makes when its outcome is its own (a group's own result is one).</summary>
    private static int Joins(WorkflowNode node) => node switch
    {
        GroupNode group => MemberJoins(group) + 1,
        StepNode chain => MemberJoins(chain.Before) + chain.Steps.Count,
        FanNode fan => MemberJoins(fan.Before) + fan.Steps.Count + 1,
        _ => 0,
    };

    /// <summary>How many joins the parts a join waits for make: a group's members', or the one part's.</summary>
    private static int MemberJoins(WorkflowNode before) => before is GroupNode group ? group.Members.Sum(Joins) : Joins(before);

    /// <summary>16 random hex digits: workflows never share ids, in any queue.</summary>
    private static string NewWorkflowId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Turns a workflow's parts into joins and the tasks that start it.</summary>
    private sealed class Compiler(TaskClient client, string workflowId, int starts)
    {
        // Every call of the workflow carries the same headers (its id): made once.
        private readonly IReadOnlyDictionary<string, string> _headers = TaskClient.HeadersOf(new CallMarks(WorkflowId: workflowId));

        // Joins numbered so far.
        private int _numbered;

        public List<WorkflowJoin> Joins { get; } = [];

        public List<(string Queue, TaskToEnqueue Task)> Starts { get; } = [];

        /// <summary>
        /// Sends <paramref name="node"/>'s outcome to <paramref name="link"/> (null: it is the
        /// workflow's end) and returns the id of the task whose end is that outcome.
        /// </summary>
        public string Exit(WorkflowNode node, WorkflowLink? link, bool grouped) => node switch
        {
            CallNode call => Start(call.Call, link, grouped),
            GroupNode group => Chain(group, [null], link),
            StepNode chain => Chain(chain.Before, [.. chain.Steps], link),
            FanNode fan => Fan(fan, link),
            _ => throw new ArgumentOutOfRangeException(nameof(node), node, "not a workflow part"),
        };

        private string Start(TaskCall call, WorkflowLink? link, bool grouped)
        {
            var prepared = client.PrepareCall(call, call.Arguments, _headers);
            var id = starts == 1 && !grouped ? workflowId + ".0" : $"{workflowId}.0.{Starts.Count}";
            Starts.Add((prepared.Queue, new TaskToEnqueue(prepared.Envelope, prepared.Priority, prepared.DueAt, id) { Link = link, Limits = prepared.Limits }));
            return id + "@" + prepared.Queue;
        }

        /// <summary>
        /// One join per step: the first waits for <paramref name="before"/> (each member of a group,
        /// or the one part), each later one for the step before it. A null step is a group's own
        /// result, which no task runs. The last step's end goes to <paramref name="link"/>.
        /// </summary>
        private string Chain(WorkflowNode before, IReadOnlyList<WorkflowStep?> steps, WorkflowLink? link)
        {
            var made = steps.Select(s => s is null ? default(PreparedCall?) : client.PrepareCall(s.Call, s.Call.Arguments, _headers, firstOpen: s.TakesResult)).ToList();
            // A group's own result is kept where its first member ends; an empty group's, where it is
            // delivered (its result is made as it is written, and delivered in the same script).
            var queues = made.Select(m => m?.Queue ?? (before is GroupNode { Members.Count: 0 } && link is not null ? link.Queue : ExitQueue(before))).ToList();
            var first = _numbered + MemberJoins(before) + 1;
            string Key(int k) => $"{workflowId}.{first + k}";

            var (ids, mode) = Members(before, new WorkflowLink(queues[0], Key(0), 0));

            for (var k = 0; k < steps.Count; k++)
            {
                var waitsFor = k == 0 ? ids : [Key(k - 1) + "@" + queues[k - 1]];
                var next = k + 1 < steps.Count ? new WorkflowLink(queues[k + 1], Key(k + 1), 0) : link;
                Joins.Add(StepJoin(queues[k], Key(k), steps[k], made[k], k == 0 ? mode : JoinMode.One, next, waitsFor));
            }

            _numbered = first + steps.Count - 1;
            return Key(steps.Count - 1) + "@" + queues[^1];
        }

        /// <summary>
        /// A fan-out: one join per step, all waiting for <paramref name="fan"/>'s part before; the
        /// first hears its members and relays every outcome to the others. Each step's end goes to a
        /// group's join, whose result (their results in step order) goes to <paramref name="link"/>.
        /// </summary>
        private string Fan(FanNode fan, WorkflowLink? link)
        {
            var made = fan.Steps.Select(s => client.PrepareCall(s, s.Arguments, _headers, firstOpen: true)).ToList();
            var first = _numbered + MemberJoins(fan.Before) + 1;
            string Key(int k) => $"{workflowId}.{first + k}";
            var m = made.Count;
            var steps = made.Select((step, k) => Key(k) + "@" + step.Queue).ToList();
            var (ids, mode) = Members(fan.Before, new WorkflowLink(made[0].Queue, Key(0), 0));
            for (var k = 0; k < m; k++)
            {
                Joins.Add(StepJoin(made[k].Queue, Key(k), new WorkflowStep(fan.Steps[k], TakesResult: true), made[k], mode, new WorkflowLink(made[0].Queue, Key(m), k), ids) with
                {
                    Relays = k == 0 && m > 1 ? steps[1..] : null,
                });
            }

            Joins.Add(StepJoin(made[0].Queue, Key(m), null, null, fan.Mode, link, steps));
            _numbered = first + m;
            return Key(m) + "@" + made[0].Queue;
        }

        /// <summary>
        /// The join that makes <paramref name="call"/> (prepared as <paramref name="step"/>) with its
        /// options kept, or a group's own result when it is null. A step that takes no result has no
        /// open argument: its join makes it as it is written.
        /// </summary>
        private WorkflowJoin StepJoin(string queue, string key, WorkflowStep? call, PreparedCall? step, JoinMode mode, WorkflowLink? next, IReadOnlyList<string> waitsFor)
            => new(queue, key, workflowId, waitsFor.Count, mode, step?.Envelope ?? ReadOnlyMemory<byte>.Empty, call is { TakesResult: false } ? WorkflowJoin.NoArgument : step?.ArgumentAt ?? 0, step?.Priority ?? 0, GroupResultName, next, waitsFor)
            {
                Limits = step?.Limits,
                Delay = call?.Call.Options?.Delay,
                NotBefore = call?.Call.Options?.Eta,
            };

        /// <summary>
        /// Compiles what a join waits for, each part's end going to <paramref name="link"/> at its
        /// index: a group's members (joined by its mode), or the one part (its result as it is).
        /// </summary>
        private (List<string> Ids, JoinMode Mode) Members(WorkflowNode before, WorkflowLink link)
        {
            var (parts, mode, grouped) = before is GroupNode group ? (group.Members, group.Mode, true) : ([before], JoinMode.One, false);
            var ids = new List<string>(parts.Count);
            for (var i = 0; i < parts.Count; i++)
            {
                ids.Add(Exit(parts[i], link with { Index = i }, grouped));
            }

            return (ids, mode);
        }

        /// <summary>The queue of the task whose end is <paramref name="node"/>'s outcome: where a group's own result is kept.</summary>
        private static string ExitQueue(WorkflowNode node) => node switch
        {
            CallNode call => call.Call.Queue,
            StepNode chain => chain.Steps[^1].Call.Queue,
            FanNode fan => fan.Steps[0].Queue,
            GroupNode { Members.Count: > 0 } group => ExitQueue(group.Members[0]),
            _ => TaskDefaults.Queue,
        };
    }
}

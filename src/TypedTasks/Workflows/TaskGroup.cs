using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Workflows;

/// <summary>
/// Makes groups: parts that run in parallel, whose results come back as one array in member order
/// (<see cref="TaskGroup{T}"/>). A group of parts whose results are not kept (calls of tasks
/// without a result, or parts of different result types) is a <see cref="TaskGroup"/> itself: it
/// succeeds once every member succeeded, and what follows it takes no result.
/// </summary>
/// <remarks>
/// A <see cref="TaskCall{T}"/> is a <see cref="TaskCall"/> too: the typed overloads of <c>Of</c> go
/// first, so a group of <c>TaskCall&lt;int&gt;</c> is a <c>TaskGroup&lt;int&gt;</c>; only calls typed as
/// <see cref="TaskCall"/> (or a mix of result types) make the group without results.
/// </remarks>
public sealed class TaskGroup : IWorkflow
{
    private TaskGroup(GroupNode group)
    {
        Group = group;
    }

    /// <summary>How many members the group has.</summary>
    public int Count => Group.Members.Count;

    internal GroupNode Group { get; }

    /// <inheritdoc/>
    WorkflowNode IWorkflow.Node => Group;

    /// <summary>A group of <paramref name="calls"/> (any queues): its result is their results, in this order.</summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="calls">The members, each a call such as <c>Tasks.Add.Call(1, 2)</c>.</param>
    /// <returns>The group, nothing sent.</returns>
    [OverloadResolutionPriority(1)]
    public static TaskGroup<T> Of<T>(IEnumerable<TaskCall<T>> calls) => new(Members(calls, nameof(calls)));

    /// <summary>
    /// A group of workflows (any queues): each member a call, a chain, a chord or a group of its own.
    /// Its result is their results, in this order; a member that is a group gives its array.
    /// </summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="members">The members, such as <c>Tasks.Add.Call(1, 2).Then(Tasks.Square)</c>.</param>
    /// <returns>The group, nothing sent.</returns>
    [OverloadResolutionPriority(1)]
    public static TaskGroup<T> Of<T>(IEnumerable<IWorkflow<T>> members) => new(Members(members, nameof(members)));

    /// <summary>A group of workflows: each member a call, a chain, a chord or a group of its own.</summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="members">The members.</param>
    /// <returns>The group, nothing sent.</returns>
    [OverloadResolutionPriority(1)]
    public static TaskGroup<T> Of<T>(params IWorkflow<T>[] members) => Of((IEnumerable<IWorkflow<T>>)members);

    /// <summary>A group of <paramref name="calls"/>: its result is their results, in this order.</summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="calls">The members.</param>
    /// <returns>The group, nothing sent.</returns>
    [OverloadResolutionPriority(1)]
    public static TaskGroup<T> Of<T>(params TaskCall<T>[] calls) => Of((IEnumerable<TaskCall<T>>)calls);

    /// <summary>
    /// A group whose results are not kept (any queues): each member a call of a task with or without a
    /// result (<c>Tasks.SendEmail.Call(e)</c>), a chain, a chord or a group. It succeeds once every
    /// member succeeded; a member that fails (after its retries) fails it at once, and members not
    /// started yet are canceled.
    /// </summary>
    /// <param name="members">The members.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup Of(IEnumerable<IWorkflow> members) => new(Members(members, nameof(members)));

    /// <summary>A group whose results are not kept: see <see cref="Of(IEnumerable{IWorkflow})"/>.</summary>
    /// <param name="members">The members, such as <c>Tasks.SendEmail.Call(e)</c>.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup Of(params IWorkflow[] members) => Of((IEnumerable<IWorkflow>)members);

    /// <summary>A group with one run of <paramref name="task"/> per element of <paramref name="items"/>, which it gets as its first argument.</summary>
    /// <typeparam name="TIn">The task's first parameter type.</typeparam>
    /// <typeparam name="TOut">The task's result type.</typeparam>
    /// <param name="task">The task: <c>Tasks.X</c> or <c>Tasks.X.Bind(...)</c>.</param>
    /// <param name="items">The elements.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup<TOut> Map<TIn, TOut>(ITaskContinuation<TIn, TOut> task, IEnumerable<TIn> items)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(items);
        return Of(items.Select(item => TaskContinuations.Fill(task, item)));
    }

    /// <summary>A chord whose callback, <paramref name="next"/>, runs once after every member succeeded, with its own arguments only.</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(Group.ThenCall(next));

    /// <summary>A chord whose callback, <paramref name="next"/>, a task without a result, runs once after every member succeeded.</summary>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(TaskCall next) => new(Group.ThenCall(next));

    /// <summary>The group that waits for every member, failed or not: its callback always runs, once.</summary>
    /// <returns>The settled group.</returns>
    public SettledGroup AllSettled() => new(Group with { Mode = JoinMode.Settled });

    /// <summary>Sends the group: its handle ends Succeeded once every member succeeded.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the group: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The group's handle, or <see cref="TaskFailedException"/> naming the member that failed.</returns>
    public async Task<AsyncResult> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Group, cancellationToken).ConfigureAwait(false);
        return new AsyncResult(client, id, name);
    }

    /// <summary>The members' nodes, refusing a null member and a call with an open first argument.</summary>
    private static GroupNode Members(IEnumerable<IWorkflow> members, string parameter)
    {
        ArgumentNullException.ThrowIfNull(members, parameter);
        var parts = members.ToList();
        var nodes = new WorkflowNode[parts.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            nodes[i] = parts[i] switch
            {
                null => throw new ArgumentException($"Member {i} of the group is null; every member is a call such as Tasks.X.Call(...), a chain or a group.", parameter),
                TaskCall call => new CallNode(WorkflowStep.Full(call, parameter)),
                var part => part.Node,
            };
        }

        return new GroupNode(nodes, JoinMode.All);
    }
}

/// <summary>
/// A group: members that run in parallel, on any queues. Its result is every member's result in
/// member order; a member that fails (after its retries) fails the group at once, and members not
/// started yet are canceled. <see cref="Then{TNext}(ITaskContinuation{T[], TNext})"/> makes a chord, <see cref="AllSettled"/> waits for every outcome.
/// </summary>
/// <typeparam name="T">The members' result type.</typeparam>
public sealed class TaskGroup<T> : IWorkflow<T[]>
{
    internal TaskGroup(GroupNode group)
    {
        Group = group;
    }

    /// <summary>How many members the group has.</summary>
    public int Count => Group.Members.Count;

    internal GroupNode Group { get; }

    /// <inheritdoc/>
    WorkflowNode IWorkflow.Node => Group;

    /// <summary>A chord: <paramref name="callback"/> runs once with every member's result, in member order, after all succeeded.</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="callback">The callback, taking a <c>T[]</c> first: <c>Tasks.Sum</c> or <c>Tasks.X.Bind(...)</c>.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(ITaskContinuation<T[], TNext> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new(Group.Then(callback.Open));
    }

    /// <summary>
    /// A fan-out: every one of <paramref name="steps"/> runs at once, each with every member's result (a <c>T[]</c>) as its first
    /// parameter. The result is theirs, in step order; a step that fails (after its retries) fails it at
    /// once and cancels the steps not started. Follow it with <c>Then</c> for a callback that takes them.
    /// </summary>
    /// <typeparam name="TNext">The steps' result type.</typeparam>
    /// <param name="steps">The steps: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c>, at least one.</param>
    /// <returns>The chain, nothing sent.</returns>
    public TaskChain<TNext[]> ThenAll<TNext>(IEnumerable<ITaskContinuation<T[], TNext>> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return new(FanNode.Of(Group, steps.Select(s => s?.Open!)));
    }

    /// <summary>A fan-out of <paramref name="steps"/>, each with every member's result: see <see cref="ThenAll{TNext}(IEnumerable{ITaskContinuation{T[], TNext}})"/>.</summary>
    /// <typeparam name="TNext">The steps' result type.</typeparam>
    /// <param name="steps">The steps, at least one.</param>
    /// <returns>The chain, nothing sent.</returns>
    public TaskChain<TNext[]> ThenAll<TNext>(params ITaskContinuation<T[], TNext>[] steps) => ThenAll((IEnumerable<ITaskContinuation<T[], TNext>>)steps);

    /// <summary>A chord whose <paramref name="callback"/>, a task without a result, runs once with every member's result after all succeeded.</summary>
    /// <param name="callback">The callback, taking a <c>T[]</c> first.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(ITaskContinuation<T[]> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new(Group.Then(callback.Open));
    }

    /// <summary>A chord whose callback, <paramref name="next"/>, runs once after every member succeeded, with its own arguments only (not the results).</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(Group.ThenCall(next));

    /// <summary>A chord whose callback, <paramref name="next"/>, a task without a result, runs once after every member succeeded, with its own arguments only.</summary>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(TaskCall next) => new(Group.ThenCall(next));

    /// <summary>The group that waits for every member, failed or not: its callback gets every outcome.</summary>
    /// <returns>The settled group.</returns>
    public SettledGroup<T> AllSettled() => new(Group with { Mode = JoinMode.Settled });

    /// <summary>Sends the group: its result's record is made by the store when the last member ended.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the group: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The group's handle: the results in member order, or <see cref="TaskFailedException"/> naming the member that failed.</returns>
    public async System.Threading.Tasks.Task<AsyncResult<T[]>> EnqueueAsync(System.Threading.CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Group, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<T[]>(client, id, name);
    }

    /// <inheritdoc/>
    async System.Threading.Tasks.Task<AsyncResult> IWorkflow.EnqueueAsync(System.Threading.CancellationToken cancellationToken) => await EnqueueAsync(cancellationToken).ConfigureAwait(false);
}

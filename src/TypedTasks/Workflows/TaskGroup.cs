using System;
using System.Collections.Generic;
using System.Linq;
using TypedTasks.Store;

namespace TypedTasks.Workflows;

/// <summary>Makes groups: calls that run in parallel, whose results come back as one array in member order.</summary>
public static class TaskGroup
{
    /// <summary>A group of <paramref name="calls"/> (any queues): its result is their results, in this order.</summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="calls">The members, each a call such as <c>Tasks.Add.Call(1, 2)</c>.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup<T> Of<T>(IEnumerable<TaskCall<T>> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        var members = calls.ToList();
        for (var i = 0; i < members.Count; i++)
        {
            if (members[i] is null)
            {
                throw new ArgumentException($"Member {i} of the group is null; every member is a call such as Tasks.X.Call(...).", nameof(calls));
            }
        }

        return new(new GroupNode([.. members.Select(m => (WorkflowNode)new CallNode(m))], JoinMode.All));
    }

    /// <summary>
    /// A group of workflows (any queues): each member a call, a chain, a chord or a group of its own.
    /// Its result is their results, in this order; a member that is a group gives its array.
    /// </summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="members">The members, such as <c>Tasks.Add.Call(1, 2).Then(Tasks.Square)</c>.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup<T> Of<T>(IEnumerable<IWorkflow<T>> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var parts = members.ToList();
        var nodes = new WorkflowNode[parts.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            nodes[i] = parts[i]?.Node ?? throw new ArgumentException($"Member {i} of the group is null; every member is a call, a chain or a group.", nameof(members));
        }

        return new(new GroupNode(nodes, JoinMode.All));
    }

    /// <summary>A group of workflows: each member a call, a chain, a chord or a group of its own.</summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="members">The members.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup<T> Of<T>(params IWorkflow<T>[] members) => Of((IEnumerable<IWorkflow<T>>)members);

    /// <summary>A group of <paramref name="calls"/>: its result is their results, in this order.</summary>
    /// <typeparam name="T">The members' result type.</typeparam>
    /// <param name="calls">The members.</param>
    /// <returns>The group, nothing sent.</returns>
    public static TaskGroup<T> Of<T>(params TaskCall<T>[] calls) => Of((IEnumerable<TaskCall<T>>)calls);

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
}

/// <summary>
/// A group: members that run in parallel, on any queues. Its result is every member's result in
/// member order; a member that fails (after its retries) fails the group at once, and members not
/// started yet are canceled. <see cref="Then{TNext}"/> makes a chord, <see cref="AllSettled"/> waits for every outcome.
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
    WorkflowNode IWorkflow<T[]>.Node => Group;

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

    /// <summary>The group that waits for every member, failed or not: its callback gets every outcome.</summary>
    /// <returns>The settled group.</returns>
    public SettledGroup<T> AllSettled() => new(Group with { Mode = JoinMode.Settled });

    /// <summary>Sends the group: its result's record is made by the store when the last member ended.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the group.</param>
    /// <returns>The group's handle: the results in member order, or <see cref="TaskFailedException"/> naming the member that failed.</returns>
    public async System.Threading.Tasks.Task<AsyncResult<T[]>> EnqueueAsync(System.Threading.CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Group, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<T[]>(client, id, name);
    }
}

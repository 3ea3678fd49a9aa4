using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Workflows;

/// <summary>
/// A group after <c>AllSettled()</c>: it ends when every member ended, whatever their outcome; its
/// callback always runs, once, with every <see cref="TaskOutcome{T}"/> in member order.
/// </summary>
/// <typeparam name="T">The members' result type.</typeparam>
public sealed class SettledGroup<T> : IWorkflow<TaskOutcome<T>[]>
{
    internal SettledGroup(GroupNode group)
    {
        Group = group;
    }

    internal GroupNode Group { get; }

    /// <inheritdoc/>
    WorkflowNode IWorkflow.Node => Group;

    /// <summary>A chord whose <paramref name="callback"/> gets every member's outcome, in member order.</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="callback">The callback, taking a <c>TaskOutcome&lt;T&gt;[]</c> first.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(ITaskContinuation<TaskOutcome<T>[], TNext> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new(Group.Then(callback.Open));
    }

    /// <summary>A chord whose <paramref name="callback"/>, a task without a result, runs once with every member's outcome.</summary>
    /// <param name="callback">The callback, taking a <c>TaskOutcome&lt;T&gt;[]</c> first.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(ITaskContinuation<TaskOutcome<T>[]> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new(Group.Then(callback.Open));
    }

    /// <summary>A chord whose callback, <paramref name="next"/>, runs once after every member ended, whatever their outcome, with its own arguments only.</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(Group.ThenCall(next));

    /// <summary>A chord whose callback, <paramref name="next"/>, a task without a result, runs once after every member ended, with its own arguments only.</summary>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(TaskCall next) => new(Group.ThenCall(next));

    /// <summary>Sends the group; its handle gives every outcome once all members ended.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the group: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The group's handle.</returns>
    public async Task<AsyncResult<TaskOutcome<T>[]>> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Group, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<TaskOutcome<T>[]>(client, id, name);
    }

    /// <inheritdoc/>
    async Task<AsyncResult> IWorkflow.EnqueueAsync(CancellationToken cancellationToken) => await EnqueueAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// A group whose results are not kept (<see cref="TaskGroup"/>), after <c>AllSettled()</c>: it ends when
/// every member ended, whatever their outcome; its callback always runs, once, after all of them.
/// </summary>
public sealed class SettledGroup : IWorkflow<TaskOutcome[]>
{
    internal SettledGroup(GroupNode group)
    {
        Group = group;
    }

    internal GroupNode Group { get; }

    /// <inheritdoc/>
    WorkflowNode IWorkflow.Node => Group;

    /// <summary>A chord whose callback, <paramref name="next"/>, runs once after every member ended, whatever their outcome, with its own arguments only.</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(Group.ThenCall(next));

    /// <summary>A chord whose callback, <paramref name="next"/>, a task without a result, runs once after every member ended, with its own arguments only.</summary>
    /// <param name="next">The callback, a call with every argument bound: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(TaskCall next) => new(Group.ThenCall(next));

    /// <summary>A chord whose <paramref name="callback"/> gets every member's outcome (state and error), in member order.</summary>
    /// <typeparam name="TNext">The callback's result type.</typeparam>
    /// <param name="callback">The callback, taking a <c>TaskOutcome[]</c> first.</param>
    /// <returns>A chain whose first step is this chord.</returns>
    public TaskChain<TNext> Then<TNext>(ITaskContinuation<TaskOutcome[], TNext> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new(Group.Then(callback.Open));
    }

    /// <summary>A chord whose <paramref name="callback"/>, a task without a result, runs once with every member's outcome.</summary>
    /// <param name="callback">The callback, taking a <c>TaskOutcome[]</c> first.</param>
    /// <returns>The chord, nothing sent.</returns>
    public TaskChain Then(ITaskContinuation<TaskOutcome[]> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new(Group.Then(callback.Open));
    }

    /// <summary>Sends the group; its handle gives every outcome once all members ended.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the group: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The group's handle.</returns>
    public async Task<AsyncResult<TaskOutcome[]>> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Group, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<TaskOutcome[]>(client, id, name);
    }

    /// <inheritdoc/>
    async Task<AsyncResult> IWorkflow.EnqueueAsync(CancellationToken cancellationToken) => await EnqueueAsync(cancellationToken).ConfigureAwait(false);
}

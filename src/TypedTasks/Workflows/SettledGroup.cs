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
    WorkflowNode IWorkflow<TaskOutcome<T>[]>.Node => Group;

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

    /// <summary>Sends the group; its handle gives every outcome once all members ended.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the group.</param>
    /// <returns>The group's handle.</returns>
    public async Task<AsyncResult<TaskOutcome<T>[]>> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Group, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<TaskOutcome<T>[]>(client, id, name);
    }
}

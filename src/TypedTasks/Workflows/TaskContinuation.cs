using System;
using System.ComponentModel;
using MessagePack;

namespace TypedTasks.Workflows;

/// <summary>A task with every parameter bound but the first (<c>Tasks.Describe.Bind("cm")</c>): a chain step.</summary>
/// <typeparam name="TIn">The type of the open first parameter.</typeparam>
/// <typeparam name="TOut">The task's result type.</typeparam>
public sealed class TaskContinuation<TIn, TOut> : ITaskContinuation<TIn, TOut>
{
    /// <summary>Wraps a call whose first argument is a nil; called by generated proxies.</summary>
    /// <param name="open">The call, its first argument open.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TaskContinuation(TaskCall<TOut> open)
    {
        Open = (open ?? throw new ArgumentNullException(nameof(open))).Opened();
    }

    /// <inheritdoc/>
    public TaskCall<TOut> Open { get; }

    /// <summary>A call of the task with <paramref name="first"/> as its first argument: a group member, a chain's start.</summary>
    /// <param name="first">The first argument.</param>
    /// <returns>The call, nothing sent.</returns>
    public TaskCall<TOut> Call(TIn first) => TaskContinuations.Fill(this, first);

    /// <inheritdoc/>
    public override string ToString() => Open.Task.Name + "(…)";
}

/// <summary>A task without a result with every parameter bound but the first (<c>Tasks.Notify.Bind("ops")</c>): a chain's last step.</summary>
/// <typeparam name="TIn">The type of the open first parameter.</typeparam>
public sealed class TaskContinuation<TIn> : ITaskContinuation<TIn>
{
    /// <summary>Wraps a call whose first argument is a nil; called by generated proxies.</summary>
    /// <param name="open">The call, its first argument open.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TaskContinuation(TaskCall open)
    {
        Open = (open ?? throw new ArgumentNullException(nameof(open))).Opened();
    }

    /// <inheritdoc/>
    public TaskCall Open { get; }

    /// <inheritdoc/>
    public override string ToString() => Open.Task.Name + "(…)";
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Workflows;

/// <summary>
/// A chain: steps that each get the previous step's result as their first parameter, made with
/// <c>Then</c>. Nothing is sent until <see cref="EnqueueAsync"/>.
/// </summary>
/// <typeparam name="T">The last step's result type.</typeparam>
public sealed class TaskChain<T> : IWorkflow<T>
{
    internal TaskChain(WorkflowNode chain)
    {
        Chain = chain;
    }

    internal WorkflowNode Chain { get; }

    /// <inheritdoc/>
    WorkflowNode IWorkflow.Node => Chain;

    /// <summary>Adds a step that gets this chain's result as its first parameter.</summary>
    /// <typeparam name="TNext">The step's result type.</typeparam>
    /// <param name="next">The step: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c>.</param>
    /// <returns>The longer chain.</returns>
    public TaskChain<TNext> Then<TNext>(ITaskContinuation<T, TNext> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new(Chain.Then(next.Open));
    }

    /// <summary>
    /// A fan-out: every one of <paramref name="steps"/> runs at once, each with this chain's result as its first
    /// parameter. The result is theirs, in step order; a step that fails (after its retries) fails it at
    /// once and cancels the steps not started. Follow it with <c>Then</c> for a callback that takes them.
    /// </summary>
    /// <typeparam name="TNext">The steps' result type.</typeparam>
    /// <param name="steps">The steps: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c>, at least one.</param>
    /// <returns>The chain, nothing sent.</returns>
    public TaskChain<TNext[]> ThenAll<TNext>(IEnumerable<ITaskContinuation<T, TNext>> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return new(FanNode.Of(Chain, steps.Select(s => s?.Open!)));
    }

    /// <summary>A fan-out of <paramref name="steps"/>, each with this chain's result: see <see cref="ThenAll{TNext}(IEnumerable{ITaskContinuation{T, TNext}})"/>.</summary>
    /// <typeparam name="TNext">The steps' result type.</typeparam>
    /// <param name="steps">The steps, at least one.</param>
    /// <returns>The chain, nothing sent.</returns>
    public TaskChain<TNext[]> ThenAll<TNext>(params ITaskContinuation<T, TNext>[] steps) => ThenAll((IEnumerable<ITaskContinuation<T, TNext>>)steps);

    /// <summary>Ends the chain with <paramref name="last"/>, a task without a result that gets this chain's result as its first parameter.</summary>
    /// <param name="last">The step: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c>.</param>
    /// <returns>The chain, nothing sent.</returns>
    public TaskChain Then(ITaskContinuation<T> last)
    {
        ArgumentNullException.ThrowIfNull(last);
        return new(Chain.Then(last.Open));
    }

    /// <summary>
    /// Adds <paramref name="next"/>, a call with all its arguments bound: it runs after this chain
    /// succeeded, without its result (Celery's immutable signature, <c>.si()</c>).
    /// </summary>
    /// <typeparam name="TNext">The call's result type.</typeparam>
    /// <param name="next">The call: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The longer chain.</returns>
    public TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(Chain.ThenCall(next));

    /// <summary>Ends the chain with <paramref name="next"/>, a call of a task without a result, run after this chain succeeded without its result.</summary>
    /// <param name="next">The call: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chain, nothing sent.</returns>
    public TaskChain Then(TaskCall next) => new(Chain.ThenCall(next));

    /// <summary>
    /// Sends the workflow: the joins are stored first, then the first stage's tasks. Each later
    /// step is made by the store when the one before it ended.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sending, not the workflow: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The handle of the last step: its result, or <see cref="TaskFailedException"/> naming the step that failed.</returns>
    public async Task<AsyncResult<T>> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Chain, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<T>(client, id, name);
    }

    /// <inheritdoc/>
    async Task<AsyncResult> IWorkflow.EnqueueAsync(CancellationToken cancellationToken) => await EnqueueAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// A chain whose last step is a task without a result (<c>.Then(Tasks.Notify)</c>): what follows it
/// takes no result (<see cref="Then(TaskCall)"/>). It can be a member of a group whose results are
/// not kept. Nothing is sent until <see cref="EnqueueAsync"/>.
/// </summary>
public sealed class TaskChain : IWorkflow
{
    internal TaskChain(StepNode chain)
    {
        Chain = chain;
    }

    internal StepNode Chain { get; }

    /// <inheritdoc/>
    WorkflowNode IWorkflow.Node => Chain;

    /// <summary>Adds <paramref name="next"/>, a call with all its arguments bound: it runs after this chain succeeded.</summary>
    /// <typeparam name="TNext">The call's result type.</typeparam>
    /// <param name="next">The call: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The longer chain.</returns>
    public TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(Chain.ThenCall(next));

    /// <summary>Adds <paramref name="next"/>, a call of a task without a result with all its arguments bound: it runs after this chain succeeded.</summary>
    /// <param name="next">The call: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The longer chain.</returns>
    public TaskChain Then(TaskCall next) => new(Chain.ThenCall(next));

    /// <summary>Sends the workflow, as <see cref="TaskChain{T}.EnqueueAsync"/> does.</summary>
    /// <param name="cancellationToken">Cancels the sending, not the workflow: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The handle of the last step: it ends Succeeded once the step ran, or <see cref="TaskFailedException"/> names the step that failed.</returns>
    public async Task<AsyncResult> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var (client, id, name) = await WorkflowSender.SendAsync(Chain, cancellationToken).ConfigureAwait(false);
        return new AsyncResult(client, id, name);
    }
}

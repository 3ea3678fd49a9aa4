using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Workflows;

/// <summary>
/// A workflow, or a part of one, sent for what it does rather than for a result: any call
/// (<see cref="TaskCall"/>, with a result or not), chain, group or settled group. Any of them can be
/// a member of a group of parts whose results are not kept (<see cref="TaskGroup.Of(IWorkflow[])"/>).
/// </summary>
public interface IWorkflow
{
    /// <summary>What the part sends, as the workflow's compiler reads it.</summary>
    internal WorkflowNode Node { get; }

    /// <summary>Sends it.</summary>
    /// <param name="cancellationToken">Cancels the sending, not what was sent: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The handle of its end: it completes when the part succeeded, or throws the failure that stopped it.</returns>
    Task<AsyncResult> EnqueueAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A workflow, or a part of one, whose result is a <typeparamref name="T"/>: a call
/// (<see cref="TaskCall{T}"/>), a chain (<see cref="TaskChain{T}"/>), a group
/// (<see cref="TaskGroup{T}"/> is an <c>IWorkflow&lt;T[]&gt;</c>) or a settled group. Any of them can be
/// sent on its own, or be a member of a group (<see cref="TaskGroup.Of{T}(IWorkflow{T}[])"/>).
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
public interface IWorkflow<T> : IWorkflow
{
    /// <summary>Sends it.</summary>
    /// <param name="cancellationToken">Cancels the sending, not what was sent: it stops a send that has written nothing yet; a send that has begun writing finishes, so that no join waits for members never stored.</param>
    /// <returns>The handle of its result.</returns>
    new Task<AsyncResult<T>> EnqueueAsync(CancellationToken cancellationToken = default);
}

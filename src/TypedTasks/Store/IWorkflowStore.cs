using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Store;

/// <summary>
/// The workflow side of a task store (docs/workflows.md): joins written before a workflow's first
/// members are sent; members enqueued with a <see cref="TaskToEnqueue.Link"/>. When a linked task
/// ends (Succeeded; Failed after its retries; Canceled; Expired), the store delivers its outcome to
/// its join, counted once per member, and the join makes its successor under a deterministic id.
/// </summary>
public interface IWorkflowStore
{
    /// <summary>Writes joins; a join that exists already is left as it is (the same workflow sent again).</summary>
    /// <param name="joins">The joins, any queues.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask CreateJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default);

    /// <summary>
    /// Says that every task the sender sends for <paramref name="joins"/> is stored (the workflow's
    /// joins, then every part of its first tasks): a store that looks for a send that stopped part
    /// way (so that a join does not wait forever for members never stored) stops looking at these.
    /// </summary>
    /// <param name="joins">The joins written by <see cref="CreateJoinsAsync"/> for one workflow.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask SealJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default);

    /// <summary>
    /// Delivers the outcomes that ended members of <paramref name="queues"/> left for joins in
    /// other queues and that were not delivered yet (their process stopped between the two steps).
    /// Returns how many were delivered. Workers call it on their recovery tick.
    /// </summary>
    /// <param name="queues">The members' queues.</param>
    /// <param name="cancellationToken">Stops between deliveries.</param>
    ValueTask<int> DeliverLeftoversAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default);

    /// <summary>A join as stored, or null when there is none (never written, or expired after it ended).</summary>
    /// <param name="queue">The join's queue.</param>
    /// <param name="key">The join's key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask<JoinInfo?> GetJoinAsync(string queue, string key, CancellationToken cancellationToken = default);
}

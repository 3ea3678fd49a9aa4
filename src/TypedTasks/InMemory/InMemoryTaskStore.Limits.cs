using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.InMemory;

public sealed partial class InMemoryTaskStore
{
    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredLimit>> GetLimitsAsync(string queue, int max, CancellationToken cancellationToken = default)
        => throw new System.NotSupportedException("limits are being built");

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredTask>> ListHeldAsync(string queue, TaskLimit limit, long offset, int count, CancellationToken cancellationToken = default)
        => throw new System.NotSupportedException("limits are being built");

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredLock>> GetLocksAsync(string queue, int max, CancellationToken cancellationToken = default)
        => throw new System.NotSupportedException("limits are being built");
}

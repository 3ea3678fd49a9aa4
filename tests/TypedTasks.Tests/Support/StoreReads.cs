using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Tests.Support;

/// <summary>Short reads of a store for assertions.</summary>
internal static class StoreReads
{
    public static async Task<long> PendingAsync(this ITaskStore store, string queue)
        => (await store.CountAsync(queue)).Pending;

    /// <summary>The failed (dead) tasks of a queue, newest first, with their reason as the error message.</summary>
    public static async Task<IReadOnlyList<TaskInfo>> FailedAsync(this ITaskStore store, string queue)
        => [.. (await store.ListAsync(queue, TaskState.Failed, 0, 1000)).Select(t => t.Info)];

    /// <summary>Enqueues raw bytes as an envelope, as a foreign or broken producer would.</summary>
    public static ValueTask<string> EnqueueRawAsync(this ITaskStore store, string queue, byte[] envelope)
        => store.EnqueueAsync(queue, new TaskToEnqueue(envelope, 0));
}

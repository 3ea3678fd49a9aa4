using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// Moves scheduled and retrying tasks into their queue when they are due, in one store call for
/// all the queues this worker serves. It sleeps until the next one is due, and at most
/// <see cref="MaxSleep"/>, so that a task scheduled meanwhile by another process is late by at
/// most that much once the store knows of it (the Redis store hears of it by a message, and
/// looks at each queue at least once per safety look interval in case a message was lost).
/// </summary>
internal sealed class Scheduler(ITaskStore store, IReadOnlyList<string> queues, StoreOutage outage, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    public Task RunAsync(CancellationToken stop) => WorkerDuty.RunAsync("promotion of due tasks", async token =>
    {
        var next = await store.PromoteDueAsync(queues, token).ConfigureAwait(false);
        if (next is not { } due)
        {
            return MaxSleep;
        }

        var wait = due - time.GetUtcNow();
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < MaxSleep ? wait : MaxSleep;
    }, outage, time, logger, stop);
}

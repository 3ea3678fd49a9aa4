using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// Sends back to their queue the tasks whose lease expired (their worker stopped renewing it),
/// every two heartbeat intervals, in one store call for all the queues this worker serves. The
/// store decides what to look at: the Redis store reads its lease registry and looks at the
/// queues only when a lease holder stopped renewing (and rarely, for safety).
/// </summary>
internal sealed class Recoverer(ITaskStore store, IReadOnlyList<string> queues, StoreOutage outage, TimeProvider time, ILogger logger)
{
    public Task RunAsync(CancellationToken stop) => WorkerDuty.RunAsync("recovery of expired leases", async token =>
    {
        var recovered = await store.RecoverAsync(queues, token).ConfigureAwait(false);
        if (recovered > 0)
        {
            Log.Recovered(logger, recovered, string.Join(", ", queues));
        }

        // Workflow outcomes a stopped process left undelivered (docs/workflows.md) go on from here.
        if (store is IWorkflowStore workflows)
        {
            await workflows.DeliverLeftoversAsync(queues, token).ConfigureAwait(false);
        }

        return store.HeartbeatInterval * 2;
    }, outage, time, logger, stop, onTick: true);
}

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// Renews the leases this worker holds and publishes the worker for tools, every
/// <see cref="ITaskStore.HeartbeatInterval"/>: a worker that stops doing it (killed, frozen, cut
/// off) loses its leases and its tasks come back.
/// </summary>
internal sealed class Heartbeat(ITaskStore store, LeaseSet leases, WorkerDescription worker, StoreOutage outage, TimeProvider time, ILogger logger)
{
    public Task RunAsync(CancellationToken stop) => WorkerDuty.RunAsync("heartbeat", async token =>
    {
        await store.HeartbeatAsync(worker, leases.Snapshot(), token).ConfigureAwait(false);
        return store.HeartbeatInterval;
    }, outage, time, logger, stop, onTick: true);
}

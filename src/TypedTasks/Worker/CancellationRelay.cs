using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// Relays cancellations from the store to this worker: a running task's token is signalled, and a
/// task fetched but not yet running is remembered so that it is settled without running.
/// </summary>
internal sealed class CancellationRelay(ITaskStore store, LeaseSet leases, StoreOutage outage, TimeProvider time, ILogger logger)
{
    private readonly ConcurrentDictionary<string, byte> _canceledHeld = new();

    /// <summary>Called with the id of a canceled task that runs here.</summary>
    public Action<string>? CancelRunning { get; set; }

    /// <summary>Whether a task held here was canceled before it ran; forgets it.</summary>
    public bool WasCanceled(string id) => !_canceledHeld.IsEmpty && _canceledHeld.TryRemove(id, out _);

    /// <summary>Forgets a settled task.</summary>
    public void Forget(string id)
    {
        if (!_canceledHeld.IsEmpty)
        {
            _canceledHeld.TryRemove(id, out _);
        }
    }

    public Task RunAsync(CancellationToken stop) => WorkerDuty.RunAsync("cancellation watch", async token =>
    {
        await using var watch = await store.WatchCancellationsAsync(OnCanceled, token).ConfigureAwait(false);
        await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
        return Timeout.InfiniteTimeSpan;
    }, outage, time, logger, stop);

    private void OnCanceled(string id)
    {
        if (leases.Holds(id))
        {
            _canceledHeld[id] = 0;
            CancelRunning?.Invoke(id);
        }
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Redis;

/// <summary>
/// An auto-reset event to await: a Set before the wait is not lost, many Sets wake one wait. The
/// waiter continues on the thread that calls <see cref="Set"/> (a pub/sub handler, an item of
/// its own on the thread pool): the fetcher it wakes only sends its next fetch, so a wake-up
/// costs no extra thread switch.
/// </summary>
internal sealed class AsyncSignal
{
    private readonly object _gate = new();
    private bool _set;
    private TaskCompletionSource<bool>? _waiter;

    public void Set()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            _waiter = null;
            _set = waiter is null;
        }

        waiter?.TrySetResult(true);
    }

    /// <summary>Waits for a Set or the timeout; true when set.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> waiter;
        lock (_gate)
        {
            if (_set)
            {
                _set = false;
                return true;
            }

            waiter = _waiter ??= new TaskCompletionSource<bool>();
        }

        try
        {
            return await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            bool taken;
            lock (_gate)
            {
                // A Set that came with the timeout took this wait: it counts.
                taken = _waiter != waiter;
                if (!taken)
                {
                    _waiter = null;
                }
            }

            if (ex is TimeoutException)
            {
                return taken;
            }

            throw;
        }
    }
}

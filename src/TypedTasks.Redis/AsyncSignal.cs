using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Redis;

/// <summary>An auto-reset event to await: a Set before the wait is not lost, many Sets wake one wait.</summary>
internal sealed class AsyncSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Set()
    {
        try
        {
            if (_semaphore.CurrentCount == 0)
            {
                _semaphore.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already set: one wake-up is enough.
        }
    }

    /// <summary>Waits for a Set or the timeout; true when set.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _semaphore.Dispose();
}

using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Worker;

/// <summary>
/// Ends a duty's sleep when the store announces what the duty would look for. A round marks the
/// signal before it reads the store (<see cref="Mark"/>), and its sleep ends at any
/// <see cref="Set"/> since that mark: an announcement that came after the read is never slept
/// through, and one that came before it is in what the round read.
/// </summary>
internal sealed class WakeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _marked = Task.CompletedTask;

    /// <summary>Something was announced: the sleep, if any, ends.</summary>
    public void Set()
        => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Called before the round reads the store.</summary>
    public void Mark() => _marked = Volatile.Read(ref _next).Task;

    /// <summary>Sleeps <paramref name="sleep"/> on <paramref name="time"/>, or until a <see cref="Set"/> since the last mark.</summary>
    public async Task SleepAsync(TimeSpan sleep, TimeProvider time, CancellationToken stop)
    {
        if (_marked.IsCompleted)
        {
            return;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(stop);
        await Task.WhenAny(Task.Delay(sleep, time, timer.Token), _marked).ConfigureAwait(false);
        await timer.CancelAsync().ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
    }
}

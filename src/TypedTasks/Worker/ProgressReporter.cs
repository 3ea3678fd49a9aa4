using System;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// The <see cref="IProgress{T}"/> a task's run is given. Each report is encoded at once (the task
/// may change the object afterwards) and only the latest is kept; at most one write per
/// <see cref="Interval"/> goes to the store, so that a tight loop of reports costs one write per
/// interval, and the run's last report is written before its final state (<see cref="FlushAsync"/>).
/// Writes take turns and each writes the latest value when its turn comes: a value never
/// overwrites a newer one.
/// </summary>
internal sealed class ProgressReporter<T>(ITaskStore store, TaskLease lease, ILogger logger) : IProgress<T>, IProgressFlush
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly CancellationTokenSource _flushing = new();
    private byte[]? _pending;
    private bool _sending;
    private bool _refused;
    private int _writes;

    /// <summary>How many writes this run's reports cost the store.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public void Report(T value)
    {
        var encoded = MessagePackSerializer.Serialize(value, TaskSerializer.Options);
        lock (_gate)
        {
            if (_refused)
            {
                return;
            }

            _pending = encoded;
            if (_sending || _flushing.IsCancellationRequested)
            {
                return;
            }

            _sending = true;
        }

        _ = SendAsync();
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.CancelAsync().ConfigureAwait(false);
        await WriteLatestAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the latest value, then waits an interval before the next; ends when nothing new came or the run ends.</summary>
    private async Task SendAsync()
    {
        try
        {
            while (true)
            {
                await WriteLatestAsync(CancellationToken.None).ConfigureAwait(false);
                await Task.Delay(Interval, _flushing.Token).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_pending is null || _refused)
                    {
                        _sending = false;
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended: its flush writes what is left.
        }
    }

    private async Task WriteLatestAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            byte[]? value;
            lock (_gate)
            {
                value = _refused ? null : _pending;
                _pending = null;
            }

            if (value is null)
            {
                return;
            }

            Interlocked.Increment(ref _writes);
            if (!await store.SetProgressAsync(lease, value, cancellationToken).ConfigureAwait(false))
            {
                // The run is no longer the task's current one (canceled, recovered): later reports are dropped.
                lock (_gate)
                {
                    _refused = true;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Progress is advisory: a failed write never fails the run; the next report tries again.
            Log.ProgressNotStored(logger, ex, lease.Id);
        }
        finally
        {
            _turn.Release();
        }
    }
}

using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// The started tasks fetched ahead of the executors, bounded by the prefetch. The fetcher refills
/// it only once it is down to half, so that it fetches fewer, larger batches and the executors
/// have work meanwhile.
/// </summary>
internal sealed class PrefetchBuffer
{
    private readonly Channel<TaskLease> _channel;
    private readonly int _refillBelow;
    private TaskCompletionSource? _drained;

    public PrefetchBuffer(int prefetch)
    {
        Capacity = prefetch;
        _refillBelow = prefetch / 2;
        _channel = Channel.CreateBounded<TaskLease>(new BoundedChannelOptions(prefetch)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,

            // An idle executor takes a fetched task on the fetcher's thread, up to its first await;
            // the task's code itself never runs there (TaskExecutor yields first).
            AllowSynchronousContinuations = true,
        });
    }

    public int Capacity { get; }

    public int Count => _channel.Reader.Count;

    /// <summary>Waits until the buffer holds at most half the prefetch.</summary>
    public async Task WaitUntilDrainedAsync(CancellationToken stop)
    {
        while (true)
        {
            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _drained, drained);
            if (_channel.Reader.Count <= _refillBelow)
            {
                return;
            }

            await drained.Task.WaitAsync(stop).ConfigureAwait(false);
        }
    }

    public bool TryWrite(TaskLease lease) => _channel.Writer.TryWrite(lease);

    public ValueTask WriteAsync(TaskLease lease, CancellationToken stop) => _channel.Writer.WriteAsync(lease, stop);

    /// <summary>
    /// The next task for an executor. ReadAsync hands each task to exactly one idle executor;
    /// waiting to read would wake every idle executor for each task, all but one for nothing.
    /// </summary>
    public async ValueTask<TaskLease> ReadAsync(CancellationToken stop)
    {
        var lease = await _channel.Reader.ReadAsync(stop).ConfigureAwait(false);
        if (_channel.Reader.Count <= _refillBelow)
        {
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
        }

        return lease;
    }

    /// <summary>Closes the buffer and returns what no executor took, in fetch order.</summary>
    public IReadOnlyList<TaskLease> Close()
    {
        _channel.Writer.TryComplete();
        var left = new List<TaskLease>();
        while (_channel.Reader.TryRead(out var lease))
        {
            left.Add(lease);
        }

        return left;
    }
}

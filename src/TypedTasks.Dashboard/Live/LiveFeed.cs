using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Dashboard.Pages;
using TypedTasks.Inspection;

namespace TypedTasks.Dashboard.Live;

/// <summary>
/// The one reader behind every open browser of a dashboard: while at least one browser listens,
/// it reads the queues' counts and the live workers once per interval and hands the same snapshot
/// to each of them; with none listening it reads nothing. Fifty browsers cost the store what one does.
/// </summary>
internal sealed class LiveFeed(ITaskInspector inspector, TimeSpan interval, ILogger logger, CancellationToken stopping)
{
    private readonly ConcurrentDictionary<Channel<string>, byte> _listeners = new();
    private readonly Lock _gate = new();
    private Task? _loop;
    private string? _latest;

    /// <summary>How many snapshots were read from the store, for tests and the harness.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    private long _reads;

    public int Listeners => _listeners.Count;

    /// <summary>Snapshots for one browser until <paramref name="cancellationToken"/> ends its request; a slow browser skips to the newest.</summary>
    public async IAsyncEnumerable<string> ListenAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        // The app's shutdown ends every stream too: an open browser must not hold the host's stop.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        cancellationToken = ended.Token;
        _listeners.TryAdd(channel, 0);
        try
        {
            if (Volatile.Read(ref _latest) is { } latest)
            {
                channel.Writer.TryWrite(latest);
            }

            EnsureRunning();
            while (await WaitAsync(channel, cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var snapshot))
                {
                    yield return snapshot;
                }
            }
        }
        finally
        {
            _listeners.TryRemove(channel, out _);
        }
    }

    /// <summary>False when the browser left or the app stops: the stream ends without an error.</summary>
    private static async ValueTask<bool> WaitAsync(Channel<string> channel, CancellationToken cancellationToken)
    {
        try
        {
            return await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void EnsureRunning()
    {
        lock (_gate)
        {
            if (_loop is null || _loop.IsCompleted)
            {
                _loop = Task.Run(RunAsync, CancellationToken.None);
            }
        }
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            if (_listeners.IsEmpty)
            {
                lock (_gate)
                {
                    // Checked again under the lock a listener takes to start the loop, so none is left without one.
                    if (_listeners.IsEmpty)
                    {
                        _loop = null;
                        return;
                    }
                }
            }

            try
            {
                var snapshot = await ReadAsync().ConfigureAwait(false);
                Volatile.Write(ref _latest, snapshot);
                foreach (var listener in _listeners.Keys)
                {
                    listener.Writer.TryWrite(snapshot);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store is unreachable: browsers keep the last figures and show that they are stale.
                logger.LogWarning(ex, "The dashboard could not read the store for its live view; it tries again in {Interval}.", interval);
                var stale = JsonSerializer.Serialize(new { stale = true, error = ex.Message });
                foreach (var listener in _listeners.Keys)
                {
                    listener.Writer.TryWrite(stale);
                }
            }
        }
        while (await TickAsync(timer).ConfigureAwait(false));
    }

    private async ValueTask<bool> TickAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<string> ReadAsync()
    {
        var queues = await inspector.GetQueuesAsync(stopping).ConfigureAwait(false);
        var workers = await inspector.GetWorkersAsync(stopping).ConfigureAwait(false);
        Interlocked.Increment(ref _reads);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["queues"] = queues.Count,
            ["workers"] = workers.Count,
            ["total:started"] = queues.Sum(q => q.Counts.Started),
            ["total:pending"] = queues.Sum(q => q.Counts.Pending),
            ["total:failed"] = queues.Sum(q => q.Counts.Failed),
        };
        foreach (var queue in queues)
        {
            foreach (var state in StateNames.All)
            {
                counts[queue.Name + ":" + StateNames.Css(state)] = queue.Counts[state];
            }

            counts[queue.Name + ":held"] = queue.Counts.Held;
            counts[queue.Name + ":workers"] = queue.Workers.Count;
        }

        return JsonSerializer.Serialize(new { model = InspectorModel.Version, at = DateTimeOffset.UtcNow, counts });
    }
}

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// Fills the prefetch buffer: each fetch starts up to the free room's worth of tasks in one store
/// call, and their leases are held (renewed by the heartbeat) from then on. While the store cannot
/// be reached it backs off, and tells the worker's <see cref="StoreOutage"/>.
/// </summary>
internal sealed class Fetcher(ITaskStore store, IReadOnlyList<string> queues, PrefetchBuffer buffer, LeaseSet leases, WorkerStatus status, StoreOutage outage, TimeProvider time, ILogger logger)
{
    // This part's name in the worker's outage account: its failures and its successes name it alike.
    private const string Part = "fetching";
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Leases fetched when the worker was stopping, not handed to any executor.</summary>
    public List<TaskLease> Unhanded { get; } = [];

    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        while (!stop.IsCancellationRequested)
        {
            IReadOnlyList<TaskLease> fetched;
            var startedAt = time.GetUtcNow();
            try
            {
                await buffer.WaitUntilDrainedAsync(stop).ConfigureAwait(false);
                var room = Math.Max(1, buffer.Capacity - buffer.Count);
                startedAt = time.GetUtcNow();
                fetched = await store.FetchAsync(queues, room, stop).ConfigureAwait(false);
                outage.Reached(Part);
                backoff.Reset();
                status.FetchSucceeded();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var delay = backoff.Next();
                status.FetchFailed(ex, time.GetUtcNow());
                if (ex is TransportException unreachable)
                {
                    outage.Failed(Part, unreachable, delay, startedAt);
                }
                else
                {
                    // Not an outage: a bug to see, with its stack trace.
                    Log.FetchFailed(logger, ex, delay);
                }

                try
                {
                    await Task.Delay(delay, time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            foreach (var lease in fetched)
            {
                leases.Add(lease);
            }

            for (var i = 0; i < fetched.Count; i++)
            {
                // Never waits for long: the fetch asked for no more than the free room.
                if (stop.IsCancellationRequested || !buffer.TryWrite(fetched[i]))
                {
                    try
                    {
                        await buffer.WriteAsync(fetched[i], stop).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
                    {
                        for (var j = i; j < fetched.Count; j++)
                        {
                            Unhanded.Add(fetched[j]);
                        }

                        return;
                    }
                }
            }
        }
    }
}

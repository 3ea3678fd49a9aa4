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
/// be reached it backs off, and says so once per outage.
/// </summary>
internal sealed class Fetcher(ITaskStore store, IReadOnlyList<string> queues, PrefetchBuffer buffer, LeaseSet leases, WorkerStatus status, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Leases fetched when the worker was stopping, not handed to any executor.</summary>
    public List<TaskLease> Unhanded { get; } = [];

    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            IReadOnlyList<TaskLease> fetched;
            try
            {
                await buffer.WaitUntilDrainedAsync(stop).ConfigureAwait(false);
                var room = Math.Max(1, buffer.Capacity - buffer.Count);
                fetched = await store.FetchAsync(queues, room, stop).ConfigureAwait(false);
                if (failures > 0)
                {
                    Log.FetchWorksAgain(logger, failures);
                    failures = 0;
                }

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
                failures++;
                status.FetchFailed(ex, time.GetUtcNow());
                LogFailure(ex, delay, failures);
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

    /// <summary>
    /// An unreachable store is a line (its message says what to check), first in full, then
    /// short; anything else is a bug to see, with its stack trace.
    /// </summary>
    private void LogFailure(Exception error, TimeSpan delay, int failures)
    {
        if (error is not TransportException)
        {
            Log.FetchFailed(logger, error, delay);
        }
        else if (failures == 1)
        {
            Log.FetchUnreachable(logger, error.Message, delay);
        }
        else
        {
            Log.FetchStillUnreachable(logger, failures, delay);
        }
    }
}

using System;
using System.Threading;

namespace TypedTasks;

/// <summary>
/// What the worker of this host is doing, for health checks and tools: whether it runs, since
/// when it has been unable to fetch, and how many messages it has finished.
/// </summary>
public sealed class WorkerStatus
{
    private long _completed;
    private long _failingSinceTicks;
    private volatile bool _running;
    private volatile Exception? _lastError;

    /// <summary>Whether the worker is running (started and not stopping).</summary>
    public bool Running => _running;

    /// <summary>Since when every fetch has failed, or null when the last one succeeded.</summary>
    public DateTimeOffset? FailingSince
    {
        get
        {
            var ticks = Interlocked.Read(ref _failingSinceTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>The error of the last failed fetch.</summary>
    public Exception? LastError => _lastError;

    /// <summary>Messages this worker has finished with (succeeded, failed, retried, dead-lettered or skipped).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    internal void SetRunning(bool running) => _running = running;

    internal void FetchSucceeded() => Interlocked.Exchange(ref _failingSinceTicks, 0);

    internal void FetchFailed(Exception error, DateTimeOffset now)
    {
        _lastError = error;
        Interlocked.CompareExchange(ref _failingSinceTicks, now.UtcTicks, 0);
    }

    internal void Finished() => Interlocked.Increment(ref _completed);
}

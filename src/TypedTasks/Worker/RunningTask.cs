using System;
using System.Threading;

namespace TypedTasks.Worker;

/// <summary>
/// One run of a task's code, from its start until the code really returns, which may be after the
/// run was settled: the token handed to the task, signalled by the task's Timeout, a cancel request
/// or the worker's hard stop, and why it was signalled.
/// </summary>
internal sealed class RunningTask : IDisposable
{
    private readonly CancellationTokenSource? _limit;
    private readonly CancellationToken _hardStop;
    private CancellationTokenSource? _source;
    private int _canceled;
    private int _disposed;
    private volatile bool _invoked;

    public RunningTask(string taskName, string id, DateTimeOffset startedAt, TimeSpan? timeout, TimeProvider time, CancellationToken hardStop)
    {
        TaskName = taskName;
        Id = id;
        StartedAt = startedAt;
        _hardStop = hardStop;

        // The limit has a source of its own, so that its passing is known for certain, not
        // guessed from the type of exception the task threw. Without a limit the token's source
        // is made only if something asks for the token: most tasks never take one, and a linked
        // source is registered on the hard stop and unregistered again for each run.
        if (timeout is { } limit)
        {
            _limit = new CancellationTokenSource(limit, time);
            _source = CancellationTokenSource.CreateLinkedTokenSource(hardStop, _limit.Token);
        }
    }

    public string TaskName { get; }

    public string Id { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The token handed to the task.</summary>
    public CancellationToken Token
    {
        get
        {
            try
            {
                return Volatile.Read(ref _disposed) == 1 ? Ended : (Volatile.Read(ref _source) ?? MakeSource())?.Token ?? Ended;
            }
            catch (ObjectDisposedException)
            {
                // Released while it was asked for.
                return Ended;
            }
        }
    }

    /// <summary>Whether the task's Timeout has passed.</summary>
    public bool LimitReached => _limit?.IsCancellationRequested == true;

    /// <summary>Whether the task was canceled through the result backend while it ran.</summary>
    public bool Canceled => Volatile.Read(ref _canceled) == 1;

    /// <summary>
    /// Whether the generated invoker has returned: its synchronous part is done, and what is left
    /// (if anything) is awaiting. False past the limit means synchronous code holding its thread.
    /// </summary>
    public bool Invoked => _invoked;

    /// <summary>The token asked for once the run was released: canceled if the run was, else the hard stop's.</summary>
    private CancellationToken Ended => Canceled ? new CancellationToken(canceled: true) : _hardStop;

    public void MarkInvoked() => _invoked = true;

    public void Cancel()
    {
        // The flag first, then the source: a source made meanwhile sees the flag (MakeSource).
        Interlocked.Exchange(ref _canceled, 1);
        try
        {
            Volatile.Read(ref _source)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Its code has just returned.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Volatile.Read(ref _source)?.Dispose();
            _limit?.Dispose();
        }
    }

    /// <summary>The token's source, made on first use; null once the run was released.</summary>
    private CancellationTokenSource? MakeSource()
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return null;
        }

        var made = CancellationTokenSource.CreateLinkedTokenSource(_hardStop);
        var existing = Interlocked.CompareExchange(ref _source, made, null);
        if (existing is not null)
        {
            made.Dispose();
            return existing;
        }

        // A cancel that came before the source was there, or while it was being made.
        if (Volatile.Read(ref _canceled) == 1)
        {
            made.Cancel();
        }

        // Released meanwhile: Dispose may have missed the source.
        if (Volatile.Read(ref _disposed) == 1)
        {
            made.Dispose();
        }

        return made;
    }
}

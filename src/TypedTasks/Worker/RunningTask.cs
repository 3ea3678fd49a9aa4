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
    private readonly CancellationTokenSource _source;
    private volatile bool _canceled;
    private volatile bool _invoked;

    public RunningTask(string taskName, string id, DateTimeOffset startedAt, TimeSpan? timeout, TimeProvider time, CancellationToken hardStop)
    {
        TaskName = taskName;
        Id = id;
        StartedAt = startedAt;

        // The limit has a source of its own, so that its passing is known for certain, not
        // guessed from the type of exception the task threw.
        _limit = timeout is { } limit ? new CancellationTokenSource(limit, time) : null;
        _source = _limit is null
            ? CancellationTokenSource.CreateLinkedTokenSource(hardStop)
            : CancellationTokenSource.CreateLinkedTokenSource(hardStop, _limit.Token);
    }

    public string TaskName { get; }

    public string Id { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The token handed to the task.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Whether the task's Timeout has passed.</summary>
    public bool LimitReached => _limit?.IsCancellationRequested == true;

    /// <summary>Whether the task was canceled through the result backend while it ran.</summary>
    public bool Canceled => _canceled;

    /// <summary>
    /// Whether the generated invoker has returned: its synchronous part is done, and what is left
    /// (if anything) is awaiting. False past the limit means synchronous code holding its thread.
    /// </summary>
    public bool Invoked => _invoked;

    public void MarkInvoked() => _invoked = true;

    public void Cancel()
    {
        _canceled = true;
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Its code has just returned.
        }
    }

    public void Dispose()
    {
        _source.Dispose();
        _limit?.Dispose();
    }
}

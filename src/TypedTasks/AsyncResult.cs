using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;

namespace TypedTasks;

/// <summary>
/// A handle on an enqueued task without a result. Await it (or call <see cref="GetAsync"/>) to
/// wait until the task has run; a failure throws <see cref="TaskFailedException"/>.
/// </summary>
public class AsyncResult
{
    internal AsyncResult(TaskClient client, string id, string? taskName)
    {
        Client = client;
        Id = id;
        TaskName = taskName;
    }

    /// <summary>The task id: keep it to ask for the task later, from any process.</summary>
    public string Id { get; }

    /// <summary>The task name, when this handle was created knowing it.</summary>
    public string? TaskName { get; }

    /// <summary>The client this handle reads through.</summary>
    protected TaskClient Client { get; }

    /// <summary>The client, for the types of this assembly that read beside the handle (progress).</summary>
    internal TaskClient ReadingClient => Client;

    /// <summary>
    /// The task's state now. Throws <see cref="TaskNotFoundException"/> when the store holds
    /// nothing for the id (never enqueued there, expired after the result TTL, or lost), so that
    /// an unknown task is never mistaken for a pending one.
    /// </summary>
    public async ValueTask<TaskState> GetStateAsync(CancellationToken cancellationToken = default)
        => (await Client.GetInfoAsync(Id, cancellationToken).ConfigureAwait(false))?.State ?? throw new TaskNotFoundException(Id, lost: false);

    /// <summary>
    /// Everything the store holds for the task, or null when it holds nothing: the id was never
    /// enqueued there (another Redis or key prefix), or its state expired. Throws
    /// <see cref="TaskNotFoundException"/> when the store can tell the task was lost.
    /// </summary>
    public ValueTask<TaskInfo?> GetInfoAsync(CancellationToken cancellationToken = default)
        => Client.GetInfoAsync(Id, cancellationToken);

    /// <summary>
    /// Cancels the task: a pending or scheduled task ends <see cref="TaskState.Canceled"/> and never
    /// runs; a running one ends Canceled and its <c>CancellationToken</c> is signalled. Returns false
    /// when the task had already ended (its final state stays).
    /// </summary>
    public ValueTask<bool> CancelAsync(CancellationToken cancellationToken = default)
        => Client.Store.CancelAsync(Id, cancellationToken);

    /// <summary>
    /// Waits until the task has run. Throws <see cref="TaskFailedException"/> when it failed,
    /// <see cref="TaskRevokedException"/> when it was canceled or expired, <see cref="TaskNotFoundException"/>
    /// when the store holds nothing for it (never enqueued there, expired, or lost), and
    /// <see cref="TimeoutException"/> when <paramref name="timeout"/> passes first (no timeout: wait for ever);
    /// its message says why the task has not finished (id never seen, no live worker for its queue,
    /// queued behind others, or still running).
    /// </summary>
    public Task GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => WaitSucceededAsync(timeout, cancellationToken, static (_, info, _) => info);

    /// <summary>Lets <c>await result</c> wait like <see cref="GetAsync"/> with no timeout.</summary>
    public TaskAwaiter GetAwaiter() => GetAsync().GetAwaiter();

    /// <inheritdoc/>
    public override string ToString() => TaskName is null ? Id : $"{TaskName} {Id}";

    /// <summary>
    /// Waits for a final state and, if the task succeeded, returns what <paramref name="result"/>
    /// makes of it; throws otherwise. The store's wait is awaited here, in the one state machine
    /// of the call.
    /// </summary>
    private protected async Task<TResult> WaitSucceededAsync<TResult>(TimeSpan? timeout, CancellationToken cancellationToken, Func<AsyncResult, TaskInfo, CancellationToken, TResult> result)
    {
        var wait = Checked(timeout);
        TaskInfo info;
        try
        {
            info = await Client.Store.WaitAsync(Id, wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException timedOut) when (!cancellationToken.IsCancellationRequested)
        {
            throw await TimedOutAsync(wait, timedOut).ConfigureAwait(false);
        }

        return result(this, Succeeded(info), cancellationToken);
    }

    /// <summary>The wait's timeout, checked: none waits for ever.</summary>
    private static TimeSpan Checked(TimeSpan? timeout)
    {
        var wait = timeout ?? Timeout.InfiniteTimeSpan;
        if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        }

        return wait;
    }

    /// <summary>
    /// A wait that timed out, with why the task has not finished: worth asking only now, the wait
    /// being over (never seen, no worker, queued, running).
    /// </summary>
    private async Task<TimeoutException> TimedOutAsync(TimeSpan wait, TimeoutException timedOut)
        => new(await TaskWaitDiagnosis.DescribeAsync(Client, Id, TaskName, wait).ConfigureAwait(false), timedOut);

    /// <summary>A final state: returned if the task succeeded; otherwise thrown as what ended it.</summary>
    private TaskInfo Succeeded(TaskInfo info) => info.State switch
    {
        TaskState.Succeeded => info,
        // A workflow step that never ran because an earlier one failed names that one.
        TaskState.Failed or TaskState.Canceled when info.Error is { FailedTaskId: { } failed } error
            => throw new TaskFailedException(failed, error.FailedTaskName ?? "?", error),
        TaskState.Failed => throw new TaskFailedException(Id, info.TaskName, info.Error ?? new TaskError("Unknown", "The task failed without a recorded error.", null)),
        _ => throw new TaskRevokedException(Id, info.TaskName, info.State),
    };
}

/// <summary>
/// A typed handle on an enqueued task. <c>int sum = await result;</c> waits for the result; a
/// failure throws <see cref="TaskFailedException"/>.
/// </summary>
/// <typeparam name="T">The task's result type.</typeparam>
public sealed class AsyncResult<T> : AsyncResult
{
    internal AsyncResult(TaskClient client, string id, string? taskName)
        : base(client, id, taskName)
    {
    }

    /// <summary>
    /// Waits until the task has run and returns its result. Throws <see cref="TaskFailedException"/>
    /// when it failed, <see cref="TaskRevokedException"/> when it was canceled or expired, and
    /// <see cref="TimeoutException"/> when <paramref name="timeout"/> passes first (no timeout: wait for ever).
    /// </summary>
    public new Task<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => WaitSucceededAsync(timeout, cancellationToken, static (self, info, token) => ((AsyncResult<T>)self).Decode(info, token));

    /// <summary>The result of a task that succeeded, read as <typeparamref name="T"/>.</summary>
    private T Decode(TaskInfo info, CancellationToken cancellationToken)
    {
        if (info.Result.IsEmpty)
        {
            return default!;
        }

        try
        {
            return MessagePackSerializer.Deserialize<T>(info.Result, TaskSerializer.Options, cancellationToken);
        }
        catch (MessagePackSerializationException ex)
        {
            // A handle made from an id by another task's proxy: name the task the id belongs to.
            var other = TaskName is { } expected && !string.Equals(expected, info.TaskName, StringComparison.Ordinal)
                ? $" The id is of task {info.TaskName}, not {expected}: read it through the proxy of {info.TaskName}."
                : "";
            throw new InvalidOperationException($"The result of task {info.TaskName} ({Id}) cannot be read as {typeof(T)}: {ex.Message}{other}", ex);
        }
    }

    /// <summary>Lets <c>await result</c> return the result, like <see cref="GetAsync"/> with no timeout.</summary>
    public new TaskAwaiter<T> GetAwaiter() => GetAsync().GetAwaiter();
}

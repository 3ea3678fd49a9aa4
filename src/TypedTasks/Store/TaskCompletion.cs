using System;

namespace TypedTasks.Store;

/// <summary>How a run ended, as <see cref="ITaskStore.CompleteAsync"/> stores it.</summary>
public readonly record struct TaskCompletion
{
    private TaskCompletion(TaskCompletionKind kind, ReadOnlyMemory<byte> result, TaskError? error, DateTimeOffset? retryAt)
    {
        Kind = kind;
        Result = result;
        Error = error;
        RetryAt = retryAt;
    }

    /// <summary>What happened.</summary>
    public TaskCompletionKind Kind { get; }

    /// <summary>The MessagePack-encoded result of a succeeded run (empty for a task without one).</summary>
    public ReadOnlyMemory<byte> Result { get; }

    /// <summary>The error of a failed or retried run, or why a message could not be run.</summary>
    public TaskError? Error { get; }

    /// <summary>When a retried task runs again.</summary>
    public DateTimeOffset? RetryAt { get; }

    /// <summary>The run succeeded with <paramref name="result"/>: final Succeeded.</summary>
    public static TaskCompletion Succeeded(ReadOnlyMemory<byte> result) => new(TaskCompletionKind.Succeeded, result, null, null);

    /// <summary>The run failed for good, or the message cannot be run at all (unreadable, unknown task): final Failed, kept in the queue's failed (dead) index.</summary>
    public static TaskCompletion Failed(TaskError error) => new(TaskCompletionKind.Failed, default, error ?? throw new ArgumentNullException(nameof(error)), null);

    /// <summary>The run failed and the task runs again at <paramref name="retryAt"/>: Retrying until then.</summary>
    public static TaskCompletion Retry(TaskError error, DateTimeOffset retryAt) => new(TaskCompletionKind.Retry, default, error ?? throw new ArgumentNullException(nameof(error)), retryAt);

    /// <summary>The task expired before it started: final Expired.</summary>
    public static TaskCompletion Expired() => new(TaskCompletionKind.Expired, default, null, null);

    /// <summary>The task was canceled while it ran (its Canceled state is already stored): the lease is dropped.</summary>
    public static TaskCompletion Canceled() => new(TaskCompletionKind.Canceled, default, null, null);

    /// <summary>
    /// The run did not happen or was interrupted (the worker is stopping): the task goes back to the
    /// head of its pending index, Pending, and this run does not count as an attempt.
    /// </summary>
    public static TaskCompletion Released() => new(TaskCompletionKind.Released, default, null, null);
}

/// <summary>The kinds of <see cref="TaskCompletion"/>.</summary>
public enum TaskCompletionKind
{
    /// <summary>See <see cref="TaskCompletion.Succeeded"/>.</summary>
    Succeeded,

    /// <summary>See <see cref="TaskCompletion.Failed"/>.</summary>
    Failed,

    /// <summary>See <see cref="TaskCompletion.Retry"/>.</summary>
    Retry,

    /// <summary>See <see cref="TaskCompletion.Expired"/>.</summary>
    Expired,

    /// <summary>See <see cref="TaskCompletion.Canceled"/>.</summary>
    Canceled,

    /// <summary>See <see cref="TaskCompletion.Released"/>.</summary>
    Released,
}

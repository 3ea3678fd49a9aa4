using MessagePack;

namespace TypedTasks.Workflows;

/// <summary>
/// How one member of a group ended, as the callback of <c>AllSettled()</c> gets it: its state, and
/// its result (Succeeded) or error (Failed, Canceled, Expired).
/// </summary>
/// <typeparam name="T">The member's result type.</typeparam>
[MessagePackFormatter(typeof(TaskOutcomeFormatter<>))]
public sealed class TaskOutcome<T>
{
    /// <summary>An outcome.</summary>
    /// <param name="state">The member's final state.</param>
    /// <param name="value">Its result when it succeeded, else default.</param>
    /// <param name="error">Its error when it did not succeed (TypedTasks.TaskExpired for one that expired; null only for a member canceled before it ran).</param>
    public TaskOutcome(TaskState state, T? value, TaskError? error)
    {
        State = state;
        Value = value;
        Error = error;
    }

    /// <summary>The member's final state: Succeeded, Failed, Canceled or Expired.</summary>
    public TaskState State { get; }

    /// <summary>Its result when <see cref="State"/> is Succeeded; default otherwise.</summary>
    public T? Value { get; }

    /// <summary>Why it did not succeed, or null.</summary>
    public TaskError? Error { get; }

    /// <summary>True when the member succeeded.</summary>
    public bool Succeeded => State == TaskState.Succeeded;

    /// <inheritdoc/>
    public override string ToString() => Succeeded ? $"Succeeded: {Value}" : $"{State}: {Error?.Message}";
}

/// <summary>
/// How one member of a group whose results are not kept ended, as the callback of its
/// <c>AllSettled()</c> gets it: its state, and its error when it did not succeed.
/// </summary>
[MessagePackFormatter(typeof(TaskOutcomeFormatter))]
public sealed class TaskOutcome
{
    /// <summary>An outcome.</summary>
    /// <param name="state">The member's final state.</param>
    /// <param name="error">Its error when it did not succeed (TypedTasks.TaskExpired for one that expired; null only for a member canceled before it ran).</param>
    public TaskOutcome(TaskState state, TaskError? error)
    {
        State = state;
        Error = error;
    }

    /// <summary>The member's final state: Succeeded, Failed, Canceled or Expired.</summary>
    public TaskState State { get; }

    /// <summary>Why it did not succeed, or null.</summary>
    public TaskError? Error { get; }

    /// <summary>True when the member succeeded.</summary>
    public bool Succeeded => State == TaskState.Succeeded;

    /// <inheritdoc/>
    public override string ToString() => Succeeded ? "Succeeded" : $"{State}: {Error?.Message}";
}

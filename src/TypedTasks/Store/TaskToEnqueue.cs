using System;

namespace TypedTasks.Store;

/// <summary>A task to store: its encoded envelope and where it waits.</summary>
/// <param name="Envelope">The encoded envelope (docs/wire-format.md): the task's name, arguments and times.</param>
/// <param name="Priority">0 to <see cref="TaskDefaults.MaxPriority"/>; higher runs first.</param>
/// <param name="DueAt">When it may run; null or a past time: now (pending), else it is Scheduled until then.</param>
/// <param name="ChosenId">An id chosen by the caller (<see cref="EnqueueOptions.TaskId"/>): the task is enqueued at most once per queue under it.</param>
public readonly record struct TaskToEnqueue(ReadOnlyMemory<byte> Envelope, int Priority, DateTimeOffset? DueAt = null, string? ChosenId = null)
{
    /// <summary>
    /// The join this task is a workflow member of (<see cref="IWorkflowStore"/>), or null. A linked
    /// task needs a <see cref="ChosenId"/>: the store looks for links of tasks with one only.
    /// </summary>
    public WorkflowLink? Link { get; init; }

    /// <summary>
    /// The unique key of a task with <see cref="TaskAttribute.UniqueFor"/> (its name and a hash of
    /// the arguments it is unique by), or null. While the task last enqueued under the key in this
    /// queue is not final, and for at most <see cref="UniqueFor"/>, an enqueue with the key stores
    /// nothing and returns that task's id.
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>How long at most the lock of <see cref="UniqueKey"/> lasts; required with a key.</summary>
    public TimeSpan? UniqueFor { get; init; }

    /// <summary>Why <see cref="UniqueKey"/> and <see cref="UniqueFor"/> cannot be stored, or null.</summary>
    internal string? UniqueProblem => (UniqueKey, UniqueFor) switch
    {
        (null, null) => null,
        (null, _) => "has UniqueFor but no UniqueKey; set both or neither",
        ({ Length: 0 or > MaxUniqueKeyLength }, _) => $"has a unique key of {UniqueKey.Length} characters; a unique key has 1 to {MaxUniqueKeyLength}",
        (_, null) => "has a UniqueKey but no UniqueFor; the lock needs a bound",
        (_, { } span) when span < TimeSpan.FromMilliseconds(1) => $"has UniqueFor {span}; it must be at least 1 ms",
        _ => null,
    };

    /// <summary>
    /// The limits the task starts under (<see cref="TaskLimit"/>: at most one concurrency limit and
    /// one rate limit), or null. A store keeps them with the task and checks them each time it
    /// would start it.
    /// </summary>
    public System.Collections.Generic.IReadOnlyList<TaskLimit>? Limits { get; init; }

    /// <summary>Why <see cref="Limits"/> cannot be stored, or null.</summary>
    internal string? LimitsProblem
    {
        get
        {
            if (Limits is not { Count: > 0 } limits)
            {
                return null;
            }

            if (limits.Count > 2)
            {
                return $"has {limits.Count} limits; a task has at most one concurrency limit and one rate limit";
            }

            foreach (var limit in limits)
            {
                if (limit.Problem is { } problem)
                {
                    return problem;
                }
            }

            return limits.Count == 2 && limits[0].IsConcurrency == limits[1].IsConcurrency
                ? "has two limits of one kind; a task has at most one concurrency limit and one rate limit"
                : null;
        }
    }

    /// <summary>The longest unique key a store takes.</summary>
    internal const int MaxUniqueKeyLength = 512;
}

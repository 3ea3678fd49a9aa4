using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.InMemory;

/// <summary>One task as an <see cref="InMemoryTaskStore"/> holds it; read and written under the store's lock only.</summary>
internal sealed class TaskRecord(string id, QueueIndexes queue, long sequence, int priority, string taskName)
{
    /// <summary>For a step that ended without running because a member failed or expired: that state, which its own join hears instead of Canceled.</summary>
    public TaskState? Via { get; init; }

    public string Id { get; } = id;

    public QueueIndexes Queue { get; } = queue;

    /// <summary>Order of creation: breaks ties between equal due times.</summary>
    public long Sequence { get; } = sequence;

    public int Priority { get; } = priority;

    /// <summary>Read once from the envelope, which a success drops.</summary>
    public string TaskName { get; } = taskName;

    public TaskState State { get; set; }

    public int Attempt { get; set; }

    /// <summary>Which delivery holds the lease; grows by one per fetch, never goes back.</summary>
    public long Fence { get; set; }

    /// <summary>The latest progress a run of this task reported; null before any.</summary>
    public Store.StoredProgress? Progress { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public ReadOnlyMemory<byte> Envelope { get; set; }

    public byte[]? Result { get; set; }

    public TaskError? Error { get; set; }

    public string? Worker { get; set; }

    /// <summary>When a scheduled or retrying task is due, or when a leased one's lease ends. Changed only while out of its sorted index.</summary>
    public DateTimeOffset Due { get; set; }

    /// <summary>Whether a run holds the task (it is in the started index), which may outlast a cancel.</summary>
    public bool Leased { get; set; }

    /// <summary>Its entry in a pending list or a final index; null when in neither.</summary>
    public LinkedListNode<TaskRecord>? Node { get; set; }

    /// <summary>When a final record ends; null while not final.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Completed, once, when the task becomes final or goes away; made by the first waiter.</summary>
    public TaskCompletionSource? Done { get; set; }

    /// <summary>The workflow join this task is a member of, or null.</summary>
    public WorkflowLink? Link { get; set; }

    /// <summary>The limits it starts under (<see cref="TaskToEnqueue.Limits"/>), or null.</summary>
    public TaskLimit[]? Limits { get; set; }

    /// <summary>The limit that holds it back while it is Pending out of its pending list, or null.</summary>
    public LimitState? HeldBy { get; set; }

    /// <summary>Its entry in <see cref="HeldBy"/>'s held list.</summary>
    public LinkedListNode<TaskRecord>? HeldNode { get; set; }

    /// <summary>The concurrency limit whose slot its current run holds, or null.</summary>
    public LimitState? Slot { get; set; }

    public TaskInfo Info() => new(Id, TaskName, State, Attempt, UpdatedAt, Error, Result ?? ReadOnlyMemory<byte>.Empty)
    {
        Queue = Queue.Name,
        Worker = Worker,
    };

    public StoredTask Stored() => new(Info(), Envelope, Priority, Leased || State is TaskState.Scheduled or TaskState.Retrying ? Due : null);
}

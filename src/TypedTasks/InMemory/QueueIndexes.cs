using System.Collections.Generic;
using System.Threading.Tasks;

namespace TypedTasks.InMemory;

/// <summary>The per-state indexes of one queue of an <see cref="InMemoryTaskStore"/>; used under the store's lock only.</summary>
internal sealed class QueueIndexes(string name)
{
    public string Name { get; } = name;

    /// <summary>Whether a task was ever stored here (a fetch on an unknown queue makes the indexes but not the queue).</summary>
    public bool Enqueued { get; set; }

    /// <summary>One list per priority, oldest first.</summary>
    public LinkedList<TaskRecord>[] Pending { get; } = MakePending();

    /// <summary>The tasks in <see cref="Pending"/>; the held ones are in <see cref="HeldCount"/>.</summary>
    public long PendingCount { get; set; }

    public SortedSet<TaskRecord> Scheduled { get; } = new(DueOrder.Instance);

    public SortedSet<TaskRecord> Retrying { get; } = new(DueOrder.Instance);

    /// <summary>Leased tasks by lease deadline.</summary>
    public SortedSet<TaskRecord> Started { get; } = new(DueOrder.Instance);

    /// <summary>The final indexes, newest first, capped.</summary>
    public LinkedList<TaskRecord> Succeeded { get; } = new();

    public LinkedList<TaskRecord> Failed { get; } = new();

    public LinkedList<TaskRecord> Canceled { get; } = new();

    public LinkedList<TaskRecord> Expired { get; } = new();

    /// <summary>The limits of its tasks by key and kind (true: rate); dropped when unused, at the latest by a sweep.</summary>
    public Dictionary<(string Key, bool IsRate), LimitState> Limits { get; } = [];

    /// <summary>The limits that hold tasks back now.</summary>
    public HashSet<LimitState> Holding { get; } = [];

    /// <summary>How many Pending tasks the limits hold back (not in <see cref="PendingCount"/>).</summary>
    public long HeldCount { get; set; }

    /// <summary>When <see cref="Limits"/> reaches this size, the unused limits go in one sweep.</summary>
    public int LimitSweepAt { get; set; } = 1024;

    /// <summary>Completed when a task becomes pending here; shared by every fetch waiting on this queue.</summary>
    public TaskCompletionSource? Signal { get; set; }

    private static LinkedList<TaskRecord>[] MakePending()
    {
        var lists = new LinkedList<TaskRecord>[TaskDefaults.MaxPriority + 1];
        for (var i = 0; i < lists.Length; i++)
        {
            lists[i] = new LinkedList<TaskRecord>();
        }

        return lists;
    }
}

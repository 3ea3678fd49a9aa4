using System.Collections.Generic;

namespace TypedTasks.InMemory;

/// <summary>Orders records by due time (or lease deadline), then by creation, so that no two compare equal.</summary>
internal sealed class DueOrder : IComparer<TaskRecord>
{
    public static DueOrder Instance { get; } = new();

    public int Compare(TaskRecord? x, TaskRecord? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        var byDue = x.Due.CompareTo(y.Due);
        return byDue != 0 ? byDue : x.Sequence.CompareTo(y.Sequence);
    }
}

using System.Collections.Concurrent;
using System.Collections.Generic;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// The leases this worker holds, from the fetch that started them to the settle that ends them:
/// the heartbeat renews them, the cancellation relay looks tasks up in it.
/// </summary>
internal sealed class LeaseSet
{
    private readonly ConcurrentDictionary<string, TaskLease> _held = new();

    public int Count => _held.Count;

    public void Add(TaskLease lease) => _held[lease.Id] = lease;

    public void Remove(TaskLease lease) => _held.TryRemove(new KeyValuePair<string, TaskLease>(lease.Id, lease));

    public bool Holds(string id) => _held.ContainsKey(id);

    public IReadOnlyCollection<TaskLease> Snapshot() => [.. _held.Values];
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.InMemory;

/// <summary>
/// Rate and concurrency limits (<see cref="TaskLimit"/>) and the unique locks as tools see them.
/// A fetch checks a limited task against each of its limits; one that refuses it holds it in its
/// held list (the task stays Pending, out of its pending list) and the fetch goes on behind it.
/// A concurrency slot comes back when the lease of its run goes (settled, recovered), and lets
/// the oldest held task go to the head of its pending list; a rate limit lets its held tasks go
/// from <see cref="PromoteDueAsync"/> once its window frees a start.
/// </summary>
public sealed partial class InMemoryTaskStore
{
    // How often PromoteDueAsync re-counts a concurrency limit that holds tasks, whatever happened.
    private static readonly TimeSpan LimitSafetyNet = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredLimit>> GetLimitsAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        lock (_gate)
        {
            var now = BeginLocked();
            if (!_queues.TryGetValue(queue, out var q))
            {
                return new(Array.Empty<StoredLimit>());
            }

            var limits = new List<StoredLimit>();
            foreach (var limit in q.Limits.Values)
            {
                var active = ActiveLocked(limit, now);
                if (active > 0 || limit.Held.Count > 0)
                {
                    limits.Add(new StoredLimit(limit.Key, limit.Count, limit.Per, active, limit.Held.Count));
                }
            }

            IReadOnlyList<StoredLimit> page = [.. limits
                .OrderBy(l => l.Key, StringComparer.Ordinal)
                .ThenBy(l => l.Per is not null)
                .Take(max)];
            return new(page);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredTask>> ListHeldAsync(string queue, TaskLimit limit, long offset, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentException.ThrowIfNullOrEmpty(limit.Key, nameof(limit));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            BeginLocked();
            if (count == 0 || !_queues.TryGetValue(queue, out var q) || !q.Limits.TryGetValue((limit.Key, !limit.IsConcurrency), out var state))
            {
                return new(Array.Empty<StoredTask>());
            }

            IReadOnlyList<StoredTask> page = [.. state.Held.Skip(offset > int.MaxValue ? int.MaxValue : (int)offset).Take(count).Select(r => r.Stored())];
            return new(page);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredLock>> GetLocksAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        lock (_gate)
        {
            var now = BeginLocked();
            IReadOnlyList<StoredLock> locks = [.. _uniqueLocks
                .Where(l => l.Key.Queue == queue && l.Value.Until > now
                    && _records.TryGetValue(l.Value.Owner.Id, out var owner) && ReferenceEquals(owner, l.Value.Owner) && !owner.State.IsFinal())
                .OrderBy(l => l.Value.Until)
                .ThenBy(l => l.Key.Key, StringComparer.Ordinal)
                .Take(max)
                .Select(l => new StoredLock(l.Key.Key, l.Value.Owner.Id, l.Value.Until))];
            return new(locks);
        }
    }

    /// <summary>
    /// Whether every limit of <paramref name="record"/> lets it start now; if so, its start is
    /// counted in each at once, else the first that refuses it (concurrency before rate) holds it.
    /// </summary>
    private bool AdmitLocked(TaskRecord record, DateTimeOffset now)
    {
        if (record.Limits is not { } limits)
        {
            return true;
        }

        var states = new LimitState[limits.Length];
        LimitState? refusing = null;
        for (var i = 0; i < limits.Length; i++)
        {
            var state = states[i] = LimitLocked(record.Queue, limits[i], now);
            if (ActiveLocked(state, now) >= state.Count && (refusing is null || refusing.IsRate))
            {
                refusing = state;
            }
        }

        if (refusing is not null)
        {
            record.HeldBy = refusing;
            record.HeldNode = refusing.Held.AddLast(record);
            record.Queue.HeldCount++;
            if (record.Queue.Holding.Add(refusing) && !refusing.IsRate)
            {
                refusing.NextCheck = now + LimitSafetyNet;
            }

            return false;
        }

        foreach (var state in states)
        {
            if (state.IsRate)
            {
                state.Starts.Enqueue(now);
            }
            else
            {
                state.Running.Add(record);
                record.Slot = state;
            }
        }

        return true;
    }

    /// <summary>The run of <paramref name="record"/> ended (its lease is gone): its concurrency slot comes back and lets the oldest held task go.</summary>
    private void EndRunLocked(TaskRecord record, List<TaskCompletionSource> woken)
    {
        if (record.Slot is not { } slot)
        {
            return;
        }

        record.Slot = null;
        slot.Running.Remove(record);
        LetGoLocked(record.Queue, slot, 1, woken);
        DropIfUnusedLocked(record.Queue, slot);
    }

    /// <summary>Takes a held task out of its held list (it is canceled or deleted).</summary>
    private static void UnholdLocked(TaskRecord record)
    {
        var limit = record.HeldBy!;
        limit.Held.Remove(record.HeldNode!);
        record.HeldBy = null;
        record.HeldNode = null;
        record.Queue.HeldCount--;
        if (limit.Held.Count == 0)
        {
            record.Queue.Holding.Remove(limit);
        }

        DropIfUnusedLocked(record.Queue, limit);
    }

    /// <summary>Moves up to <paramref name="count"/> of the oldest held tasks of <paramref name="limit"/> to the head of their pending lists, the oldest first.</summary>
    private void LetGoLocked(QueueIndexes queue, LimitState limit, int count, List<TaskCompletionSource> woken)
    {
        if (count <= 0 || limit.Held.Count == 0)
        {
            return;
        }

        var going = new List<TaskRecord>(Math.Min(count, limit.Held.Count));
        while (going.Count < count && limit.Held.First is { } node)
        {
            limit.Held.RemoveFirst();
            node.Value.HeldBy = null;
            node.Value.HeldNode = null;
            queue.HeldCount--;
            going.Add(node.Value);
        }

        if (limit.Held.Count == 0)
        {
            queue.Holding.Remove(limit);
        }

        for (var i = going.Count - 1; i >= 0; i--)
        {
            PushPendingLocked(going[i], atHead: true, woken);
        }
    }

    /// <summary>
    /// The timer of the limits that hold tasks in <paramref name="queue"/>: a rate limit lets go as
    /// many as its window frees; a concurrency limit is re-counted every <see cref="LimitSafetyNet"/>,
    /// dropping runs whose lease is gone. Returns when one of them looks again, or null.
    /// </summary>
    private DateTimeOffset? PromoteLimitsLocked(QueueIndexes queue, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        DateTimeOffset? next = null;
        foreach (var limit in queue.Holding.ToList())
        {
            DateTimeOffset? due;
            if (limit.IsRate)
            {
                var started = ActiveLocked(limit, now);
                var free = (int)Math.Clamp(limit.Count - started, 0, limit.Held.Count);
                LetGoLocked(queue, limit, free, woken);

                // The start whose leaving the window frees the next one, or, when the window holds
                // none of them, the earliest a start made from now on can leave it.
                var freeing = started - limit.Count + free;
                due = limit.Held.Count == 0 ? null
                    : freeing < started ? limit.Starts.ElementAt((int)freeing) + limit.Per!.Value
                    : now + limit.Per!.Value;
            }
            else
            {
                if (limit.NextCheck <= now)
                {
                    foreach (var lost in limit.Running.Where(r => !r.Leased || !_records.TryGetValue(r.Id, out var current) || !ReferenceEquals(current, r)).ToList())
                    {
                        limit.Running.Remove(lost);
                        lost.Slot = null;
                    }
                    LetGoLocked(queue, limit, limit.Count - limit.Running.Count, woken);
                    limit.NextCheck = now + LimitSafetyNet;
                }

                due = limit.Held.Count == 0 ? null : limit.NextCheck;
                DropIfUnusedLocked(queue, limit);
            }

            if (due is { } at && (next is null || at < next))
            {
                next = at;
            }
        }

        return next;
    }

    /// <summary>The held tasks of a queue, after its pending ones when listed: by limit key, then concurrency before rate, each in the order it lets them go.</summary>
    private static IEnumerable<TaskRecord> HeldOf(QueueIndexes queue)
        => queue.Holding
            .OrderBy(l => l.Key, StringComparer.Ordinal)
            .ThenBy(l => l.IsRate)
            .SelectMany(l => l.Held)
            .ToList();

    /// <summary>Concurrency: the runs counted now; rate: the starts in the window ending now (older ones are dropped).</summary>
    private static long ActiveLocked(LimitState limit, DateTimeOffset now)
    {
        if (!limit.IsRate)
        {
            return limit.Running.Count;
        }

        var windowStart = now - limit.Per!.Value;
        while (limit.Starts.TryPeek(out var start) && start <= windowStart)
        {
            limit.Starts.Dequeue();
        }

        return limit.Starts.Count;
    }

    /// <summary>The state of <paramref name="limit"/> in <paramref name="queue"/>, made when new; its count and window become the ones this task carries.</summary>
    private static LimitState LimitLocked(QueueIndexes queue, TaskLimit limit, DateTimeOffset now)
    {
        var id = (limit.Key, !limit.IsConcurrency);
        if (!queue.Limits.TryGetValue(id, out var state))
        {
            if (queue.Limits.Count >= queue.LimitSweepAt)
            {
                // Limits per key (one per tenant, say) come and go: the unused ones go in one
                // sweep whenever the table doubled, so it stays bounded by the ones in use.
                foreach (var unused in queue.Limits.Values.Where(l => l.Held.Count == 0 && ActiveLocked(l, now) == 0).ToList())
                {
                    queue.Limits.Remove((unused.Key, unused.IsRate));
                }

                queue.LimitSweepAt = Math.Max(1024, queue.Limits.Count * 2);
            }

            state = new LimitState(limit.Key, !limit.IsConcurrency);
            queue.Limits.Add(id, state);
        }

        state.Count = limit.Count;
        state.Per = limit.Per;
        return state;
    }

    /// <summary>A concurrency limit that counts no run and holds no task is forgotten at once (a rate limit waits for the sweep: its window still counts).</summary>
    private static void DropIfUnusedLocked(QueueIndexes queue, LimitState limit)
    {
        if (!limit.IsRate && limit.Running.Count == 0 && limit.Held.Count == 0)
        {
            queue.Limits.Remove((limit.Key, false));
        }
    }
}

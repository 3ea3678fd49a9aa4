using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.InMemory;

/// <summary>The schedules of the in-memory store: one record per name, each operation under the schedules' own lock.</summary>
public sealed partial class InMemoryTaskStore
{
    private readonly Dictionary<string, StoredSchedule> _schedules = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public ValueTask<StoredSchedule> UpsertScheduleAsync(string name, string definition, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(definition);
        lock (_schedules)
        {
            if (_schedules.TryGetValue(name, out var stored))
            {
                if (stored.Definition == definition)
                {
                    return ValueTask.FromResult(stored);
                }

                stored = stored with { Definition = definition, Generation = stored.Generation + 1, NextFireAt = nextFireAt };
            }
            else
            {
                stored = new StoredSchedule(name, definition, 1, nextFireAt, false, null, null, null);
            }

            _schedules[name] = stored;
            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc/>
    public ValueTask<StoredSchedule?> GetScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_schedules)
        {
            return ValueTask.FromResult(_schedules.GetValueOrDefault(name));
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredSchedule>> ListSchedulesAsync(CancellationToken cancellationToken = default)
    {
        lock (_schedules)
        {
            return ValueTask.FromResult<IReadOnlyList<StoredSchedule>>([.. _schedules.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]);
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> AdvanceAsync(string name, long generation, DateTimeOffset expectedNext, DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, string? lastTaskId, CancellationToken cancellationToken = default)
        => Change(name, s => s.Generation == generation && s.NextFireAt == expectedNext
            ? lastFireAt is null ? s with { NextFireAt = nextFireAt } : s with { NextFireAt = nextFireAt, LastFireAt = lastFireAt, LastTaskId = lastTaskId }
            : null);

    /// <inheritdoc/>
    public ValueTask<bool> SetPausedAsync(string name, bool paused, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default)
        => Change(name, s => paused ? s with { Paused = true } : s with { Paused = false, NextFireAt = nextFireAt });

    /// <inheritdoc/>
    public ValueTask<bool> RequestTriggerAsync(string name, DateTimeOffset at, CancellationToken cancellationToken = default)
        => Change(name, s => s.TriggerRequestedAt is null ? s with { TriggerRequestedAt = at } : null);

    /// <inheritdoc/>
    public ValueTask<bool> CompleteTriggerAsync(string name, DateTimeOffset requestedAt, string taskId, CancellationToken cancellationToken = default)
        => Change(name, s => s.TriggerRequestedAt == requestedAt ? s with { TriggerRequestedAt = null, LastFireAt = requestedAt, LastTaskId = taskId } : null);

    /// <inheritdoc/>
    public ValueTask<bool> RemoveScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_schedules)
        {
            return ValueTask.FromResult(_schedules.Remove(name));
        }
    }

    /// <summary>Applies <paramref name="change"/> to the named schedule; it returns null to change nothing.</summary>
    private ValueTask<bool> Change(string name, Func<StoredSchedule, StoredSchedule?> change)
    {
        lock (_schedules)
        {
            if (!_schedules.TryGetValue(name, out var stored) || change(stored) is not { } changed)
            {
                return ValueTask.FromResult(false);
            }

            _schedules[name] = changed;
            return ValueTask.FromResult(true);
        }
    }
}

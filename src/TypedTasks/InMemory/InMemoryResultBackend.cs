using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Serialization;
using TypedTasks.Transport;

namespace TypedTasks.InMemory;

/// <summary>
/// A result backend inside the process. It stores each state encoded, exactly as the Redis backend
/// does, expires it after the result TTL, and wakes waiters when a task reaches a final state.
/// </summary>
public sealed class InMemoryResultBackend : IResultBackend
{
    private const int SweepEvery = 4096;
    private readonly object _gate = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly List<Action<string>> _watchers = [];
    private int _writesSinceSweep;

    /// <summary>Creates an empty backend.</summary>
    /// <param name="resultTtl">How long a state is kept after its last write; one day when null.</param>
    /// <param name="timeProvider">The clock; the system clock when null.</param>
    public InMemoryResultBackend(TimeSpan? resultTtl = null, TimeProvider? timeProvider = null)
    {
        _ttl = resultTtl ?? TaskDefaults.ResultTtl;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_ttl, TimeSpan.Zero, nameof(resultTtl));
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public ValueTask SetAsync(TaskInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        var stored = TaskInfoCodec.Write(info);
        TaskCompletionSource<byte[]>? wake;
        lock (_gate)
        {
            if (ReadLocked(info.Id) is { } current && current.State.IsFinal())
            {
                return default; // the first final state wins
            }

            wake = StoreLocked(info.Id, info.State, stored);
        }

        wake?.TrySetResult(stored);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask SetEnqueuedAsync(TaskInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        var stored = TaskInfoCodec.Write(info);
        lock (_gate)
        {
            if (ReadLocked(info.Id) is null)
            {
                _ = StoreLocked(info.Id, info.State, stored);
            }
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask<TaskInfo?> TryStartAsync(TaskInfo started, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(started);
        var stored = TaskInfoCodec.Write(started);
        lock (_gate)
        {
            if (ReadLocked(started.Id) is { } current && (current.State.IsFinal()))
            {
                return new(current);
            }

            _ = StoreLocked(started.Id, started.State, stored);
        }

        return new((TaskInfo?)null);
    }

    /// <inheritdoc/>
    public ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<byte[]>? wake;
        byte[] stored;
        Action<string>[] watchers;
        lock (_gate)
        {
            var current = ReadLocked(id);
            if (current?.State.IsFinal() == true)
            {
                return new(false);
            }

            var canceled = new TaskInfo(id, current?.TaskName ?? string.Empty, TaskState.Canceled, current?.Attempt ?? 0, _time.GetUtcNow(), null, default);
            stored = TaskInfoCodec.Write(canceled);
            wake = StoreLocked(id, TaskState.Canceled, stored);
            watchers = [.. _watchers];
        }

        wake?.TrySetResult(stored);
        foreach (var watcher in watchers)
        {
            watcher(id);
        }

        return new(true);
    }

    /// <inheritdoc/>
    public ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onCanceled);
        lock (_gate)
        {
            _watchers.Add(onCanceled);
        }

        return new(new Unwatch(this, onCanceled));
    }

    /// <inheritdoc/>
    public ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return new(ReadLocked(id));
        }
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<byte[]> waiter;
        lock (_gate)
        {
            if (ReadLocked(id) is { } current && current.State.IsFinal())
            {
                return current;
            }

            if (!_slots.TryGetValue(id, out var slot))
            {
                slot = new Slot();
                _slots.Add(id, slot);
            }

            waiter = slot.Final ??= new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            slot.Waiting++;
        }

        try
        {
            var stored = timeout == Timeout.InfiniteTimeSpan
                ? await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false)
                : await waiter.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return TaskInfoCodec.Read(id, stored);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Task {id} did not reach a final state within {timeout}.");
        }
        finally
        {
            lock (_gate)
            {
                if (_slots.TryGetValue(id, out var slot) && --slot.Waiting == 0 && slot.Stored is null)
                {
                    _slots.Remove(id);
                }
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => default;

    private TaskCompletionSource<byte[]>? StoreLocked(string id, TaskState state, byte[] stored)
    {
        if (!_slots.TryGetValue(id, out var slot))
        {
            slot = new Slot();
            _slots.Add(id, slot);
        }

        slot.Stored = stored;
        slot.ExpiresAt = _time.GetUtcNow() + _ttl;
        TaskCompletionSource<byte[]>? wake = null;
        if (state.IsFinal())
        {
            wake = slot.Final;
            slot.Final = null;
        }

        if (++_writesSinceSweep >= SweepEvery)
        {
            _writesSinceSweep = 0;
            SweepLocked();
        }

        return wake;
    }

    private TaskInfo? ReadLocked(string id)
    {
        if (!_slots.TryGetValue(id, out var slot) || slot.Stored is null)
        {
            return null;
        }

        if (slot.ExpiresAt <= _time.GetUtcNow())
        {
            slot.Stored = null;
            if (slot.Waiting == 0)
            {
                _slots.Remove(id);
            }

            return null;
        }

        return TaskInfoCodec.Read(id, slot.Stored);
    }

    private void SweepLocked()
    {
        var now = _time.GetUtcNow();
        List<string>? expired = null;
        foreach (var (id, slot) in _slots)
        {
            if (slot.Stored is not null && slot.ExpiresAt <= now && slot.Waiting == 0)
            {
                (expired ??= []).Add(id);
            }
        }

        expired?.ForEach(id => _slots.Remove(id));
    }

    private sealed class Unwatch(InMemoryResultBackend backend, Action<string> watcher) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (backend._gate)
            {
                backend._watchers.Remove(watcher);
            }

            return default;
        }
    }

    private sealed class Slot
    {
        public byte[]? Stored { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }

        public TaskCompletionSource<byte[]>? Final { get; set; }

        public int Waiting { get; set; }
    }
}

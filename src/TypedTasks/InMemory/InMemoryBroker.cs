using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Transport;

namespace TypedTasks.InMemory;

/// <summary>
/// A broker inside the process: for the quickstart, for a single-process app, and for users' own
/// unit tests. Like the Redis broker it stores encoded bytes only, serves higher priorities first,
/// holds delayed messages until due, and puts unsettled leases back at the head of their queue.
/// It keeps nothing across a restart.
/// </summary>
public sealed class InMemoryBroker : ITaskBroker
{
    private readonly object _gate = new();
    private readonly Dictionary<string, QueueState> _queues = new(StringComparer.Ordinal);
    private readonly PriorityQueue<ScheduledMessage, (DateTimeOffset DueAt, long Sequence)> _scheduled = new();
    private readonly List<TaskCompletionSource> _waiters = [];
    private readonly List<LiveWorker> _workers = [];
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _sequence;
    private long _workerSequence;
    private bool _disposed;

    /// <summary>Creates an empty broker.</summary>
    /// <param name="timeProvider">The clock for delays; the system clock when null.</param>
    public InMemoryBroker(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _timer = _time.CreateTimer(static state => ((InMemoryBroker)state!).PromoteDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <inheritdoc/>
    public ValueTask EnqueueAsync(string queue, ReadOnlyMemory<byte> body, int priority, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Push(queue, new Message(body.ToArray(), ClampPriority(priority)), atHead: false);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask EnqueueManyAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, int priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var body in bodies)
        {
            Push(queue, new Message(body.ToArray(), ClampPriority(priority)), atHead: false);
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask ScheduleAsync(string queue, ReadOnlyMemory<byte> body, int priority, DateTimeOffset dueAt, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Schedule(queue, new Message(body.ToArray(), ClampPriority(priority)), dueAt);
        return default;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<ITaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        while (true)
        {
            TaskCompletionSource wake;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var leases = TakeLocked(queues, max);
                if (leases is not null)
                {
                    return leases;
                }

                wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add(wake);
            }

            try
            {
                await wake.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    _waiters.Remove(wake);
                }

                throw;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<DeadLetter> copy = _queues.TryGetValue(queue, out var state) ? [.. Enumerable.Reverse(state.Dead)] : [];
            return new(copy);
        }
    }

    /// <inheritdoc/>
    public ValueTask PingAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        return default;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// In-process timers promote scheduled messages and there is no other worker to watch: the
    /// worker is only listed as live (for <see cref="GetLiveWorkersAsync"/>) until stop.
    /// </remarks>
    public async Task RunWorkerServicesAsync(WorkerDescription worker, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var live = new LiveWorker($"{Worker.WorkerIdentity.Name}:{Interlocked.Increment(ref _workerSequence)}", Worker.WorkerIdentity.Host, Worker.WorkerIdentity.Pid, worker.Queues, worker.Tasks);
        lock (_gate)
        {
            _workers.Add(live);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped: the worker is no longer live.
        }
        finally
        {
            lock (_gate)
            {
                _workers.Remove(live);
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> GetQueueLengthAsync(string queue, CancellationToken cancellationToken = default)
        => new(GetQueueLength(queue));

    /// <inheritdoc/>
    /// <remarks>Every lease of this broker that is not settled: the only workers it has are live.</remarks>
    public ValueTask<long> GetHeldCountAsync(string queue, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return new(_queues.TryGetValue(queue, out var state) ? state.Held : 0);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LiveWorker>> GetLiveWorkersAsync(string queue, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<LiveWorker> serving = [.. _workers.Where(w => w.Queues.Contains(queue, StringComparer.Ordinal))];
            return new(serving);
        }
    }

    /// <summary>How many messages wait in <paramref name="queue"/>, not counting scheduled ones.</summary>
    public int GetQueueLength(string queue)
    {
        lock (_gate)
        {
            return _queues.TryGetValue(queue, out var state) ? state.Count : 0;
        }
    }

    /// <summary>How many messages wait for their delay, ETA or retry backoff.</summary>
    public int ScheduledCount
    {
        get
        {
            lock (_gate)
            {
                return _scheduled.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource[] waiters;
        lock (_gate)
        {
            _disposed = true;
            waiters = [.. _waiters];
            _waiters.Clear();
        }

        _timer.Dispose();
        foreach (var waiter in waiters)
        {
            waiter.TrySetException(new ObjectDisposedException(nameof(InMemoryBroker)));
        }

        return default;
    }

    private static int ClampPriority(int priority) => Math.Clamp(priority, 0, TaskDefaults.MaxPriority);

    private void Push(string queue, Message message, bool atHead)
    {
        List<TaskCompletionSource>? wake = null;
        lock (_gate)
        {
            if (!_queues.TryGetValue(queue, out var state))
            {
                state = new QueueState();
                _queues.Add(queue, state);
            }

            var level = state.Levels[message.Priority];
            if (atHead)
            {
                level.AddFirst(message);
            }
            else
            {
                level.AddLast(message);
            }

            state.Count++;
            if (_waiters.Count > 0)
            {
                wake = [.. _waiters];
                _waiters.Clear();
            }
        }

        if (wake is not null)
        {
            foreach (var waiter in wake)
            {
                waiter.TrySetResult();
            }
        }
    }

    private void Schedule(string queue, Message message, DateTimeOffset dueAt)
    {
        lock (_gate)
        {
            _scheduled.Enqueue(new ScheduledMessage(queue, message), (dueAt, _sequence++));
            if (_scheduled.TryPeek(out _, out var first) && first.DueAt == dueAt)
            {
                ArmTimerLocked();
            }
        }
    }

    private void ArmTimerLocked()
    {
        if (_disposed || !_scheduled.TryPeek(out _, out var first))
        {
            return;
        }

        var wait = first.DueAt - _time.GetUtcNow();
        _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
    }

    private void PromoteDue()
    {
        var due = new List<ScheduledMessage>();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            while (_scheduled.TryPeek(out var message, out var key) && key.DueAt <= now)
            {
                _scheduled.Dequeue();
                due.Add(message);
            }

            ArmTimerLocked();
        }

        foreach (var message in due)
        {
            Push(message.Queue, message.Message, atHead: false);
        }
    }

    private List<ITaskLease>? TakeLocked(IReadOnlyList<string> queues, int max)
    {
        List<ITaskLease>? leases = null;
        foreach (var queue in queues)
        {
            if (!_queues.TryGetValue(queue, out var state) || state.Count == 0)
            {
                continue;
            }

            for (var level = TaskDefaults.MaxPriority; level >= 0 && state.Count > 0; level--)
            {
                var list = state.Levels[level];
                while (list.First is { } node)
                {
                    list.RemoveFirst();
                    state.Count--;
                    state.Held++;
                    (leases ??= []).Add(new Lease(this, queue, node.Value));
                    if (leases.Count == max)
                    {
                        return leases;
                    }
                }
            }
        }

        return leases;
    }

    private void AddDeadLetter(string queue, byte[] body, string reason)
    {
        lock (_gate)
        {
            if (!_queues.TryGetValue(queue, out var state))
            {
                state = new QueueState();
                _queues.Add(queue, state);
            }

            state.Dead.Add(new DeadLetter(queue, body, reason, _time.GetUtcNow()));
        }
    }

    private void Release(string queue)
    {
        lock (_gate)
        {
            _queues[queue].Held--;
        }
    }

    private sealed record Message(byte[] Body, int Priority);

    private sealed record ScheduledMessage(string Queue, Message Message);

    private sealed class QueueState
    {
        public QueueState()
        {
            for (var i = 0; i < Levels.Length; i++)
            {
                Levels[i] = new LinkedList<Message>();
            }
        }

        public LinkedList<Message>[] Levels { get; } = new LinkedList<Message>[TaskDefaults.MaxPriority + 1];

        public int Count { get; set; }

        /// <summary>Leased and not settled.</summary>
        public int Held { get; set; }

        public List<DeadLetter> Dead { get; } = [];
    }

    private sealed class Lease(InMemoryBroker broker, string queue, Message message) : ITaskLease
    {
        private int _settled;

        public string Queue => queue;

        public ReadOnlyMemory<byte> Body => message.Body;

        public ValueTask AckAsync(CancellationToken cancellationToken = default)
        {
            Settle();
            return default;
        }

        public ValueTask RetryAsync(ReadOnlyMemory<byte> body, int priority, DateTimeOffset dueAt, CancellationToken cancellationToken = default)
        {
            Settle();
            broker.Schedule(queue, new Message(body.ToArray(), ClampPriority(priority)), dueAt);
            return default;
        }

        public ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken = default)
        {
            Settle();
            broker.AddDeadLetter(queue, message.Body, reason);
            return default;
        }

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _settled, 1) == 0)
            {
                broker.Release(queue);
                broker.Push(queue, message, atHead: true);
            }

            return default;
        }

        private void Settle()
        {
            if (Interlocked.Exchange(ref _settled, 1) != 0)
            {
                throw new InvalidOperationException("This lease was already settled.");
            }

            broker.Release(queue);
        }
    }
}

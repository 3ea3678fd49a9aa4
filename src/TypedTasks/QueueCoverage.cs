using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks;

/// <summary>
/// Warns once per queue and task when a producer sends a task that no live worker will run: no
/// live worker serves the queue, or none of those that do knows the task (another application on
/// the same Redis and queue, a worker not yet deployed). The send path only notes a (queue, task)
/// pair the first time it sees it; after that it costs one lock-free dictionary read. The store
/// is asked about the queue's live workers in the background, <c>delay</c> after the pair was first
/// seen, so that a worker starting at the same time (in this process or beside it) has published
/// its heartbeat by then; a pair that the worker of this very process runs needs no question. Each
/// pair is checked once: a later outage is the wait diagnosis's to tell. A producer that stops
/// before the delay passed has its pending pairs checked at once, within <see cref="FlushBudget"/>,
/// so that a short-lived one warns before it exits.
/// </summary>
internal sealed partial class QueueCoverage : IDisposable, IAsyncDisposable
{
    /// <summary>
    /// The longest delay the options accept: a timer cannot wait beyond about 49.7 days, and a
    /// check later than a month helps nobody.
    /// </summary>
    internal static readonly TimeSpan MaxDelay = TimeSpan.FromDays(30);

    /// <summary>How long stopping may spend on the checks still pending: a stopping producer is not kept much longer.</summary>
    internal static readonly TimeSpan FlushBudget = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<(string Queue, string Task), byte> _seen = new();
    private readonly ConcurrentDictionary<(string Queue, string Task), byte> _local = new();
    private readonly List<(string Queue, string Task, DateTimeOffset DueAt)> _pending = [];
    private readonly List<LiveWorker> _localWorkers = [];
    private readonly object _gate = new();
    private readonly ITaskStore _store;
    private readonly TimeSpan _delay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private bool _armed;
    private bool _disposed;

    public QueueCoverage(ITaskStore store, TimeSpan delay, TimeProvider time, ILogger logger)
    {
        _store = store;
        _delay = delay < TimeSpan.Zero || delay > MaxDelay ? MaxDelay : delay;
        _time = time;
        _logger = logger;
        _timer = time.CreateTimer(static state => _ = ((QueueCoverage)state!).CheckDueAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Records the worker of this process: what it serves is known at once, while its heartbeat
    /// may not have reached the store by the first check.
    /// </summary>
    public void AddLocalWorker(IReadOnlyList<string> queues, IReadOnlyCollection<string> tasks)
    {
        foreach (var queue in queues)
        {
            foreach (var task in tasks)
            {
                _local.TryAdd((queue, task), 0);
            }
        }

        lock (_gate)
        {
            _localWorkers.Add(new LiveWorker(Worker.WorkerIdentity.Name, Worker.WorkerIdentity.Host, Worker.WorkerIdentity.Pid, queues, [.. tasks]));
        }
    }

    /// <summary>Notes that <paramref name="task"/> is being sent to <paramref name="queue"/>; checked later, once. Never throws: it is on the send path.</summary>
    public void Observe(string queue, string task)
    {
        if (_seen.ContainsKey((queue, task)) || !_seen.TryAdd((queue, task), 0))
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                _pending.Add((queue, task, _time.GetUtcNow() + _delay));
                ArmLocked();
            }
        }
        catch (Exception ex)
        {
            // A warning is a courtesy: an enqueue never fails for it.
            LogCheckFailed(_logger, ex, queue);
        }
    }

    /// <summary>Asks the store about each queue whose pairs are due and warns for the pairs no live worker will run.</summary>
    internal Task CheckDueAsync() => CheckAsync(all: false);

    /// <summary>
    /// Checks every pair still pending, due or not, within <see cref="FlushBudget"/> (or until
    /// <paramref name="cancellationToken"/> fires): called when the producer stops.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_disposed || _pending.Count == 0)
            {
                return;
            }
        }

        try
        {
            await CheckAsync(all: true).WaitAsync(FlushBudget, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Stopping goes on: the store did not answer in time, and its own loops say why.
            LogFlushCut(_logger, FlushBudget.TotalSeconds);
        }
    }

    private async Task CheckAsync(bool all)
    {
        List<(string Queue, string Task, DateTimeOffset DueAt)> due;
        lock (_gate)
        {
            _armed = false;
            var now = _time.GetUtcNow();
            due = _pending.FindAll(p => all || p.DueAt <= now);
            _pending.RemoveAll(p => all || p.DueAt <= now);
        }

        foreach (var (queue, task, _) in due.Where(p => _local.ContainsKey((p.Queue, p.Task))))
        {
            LogServedHere(_logger, queue, task);
        }

        // The live workers are read once per check, for every queue it looks at.
        IReadOnlyList<LiveWorker>? live = null;
        foreach (var queue in due.Where(p => !_local.ContainsKey((p.Queue, p.Task))).GroupBy(p => p.Queue, StringComparer.Ordinal))
        {
            IReadOnlyList<LiveWorker> workers;
            try
            {
                live ??= await _store.GetWorkersAsync().ConfigureAwait(false);
                workers = WithLocal(queue.Key, [.. live.Where(w => w.Queues.Contains(queue.Key, StringComparer.Ordinal))]);
            }
            catch (Exception ex)
            {
                // A warning is a courtesy: never let it fail anything. A store that is away (its own
                // loops say so) is asked again later; any other error drops the check.
                LogCheckFailed(_logger, ex, queue.Key);
                if (ex is TransportException && !all)
                {
                    lock (_gate)
                    {
                        var retryAt = _time.GetUtcNow() + _delay;
                        _pending.AddRange(queue.Select(p => p with { DueAt = retryAt }));
                    }
                }

                continue;
            }

            foreach (var (_, task, _) in queue)
            {
                if (workers.Count == 0)
                {
                    LogNoWorker(_logger, queue.Key, task);
                }
                else if (!workers.Any(w => w.MayRun(task)))
                {
                    LogTaskUnknown(_logger, queue.Key, task, string.Join(", ", workers));
                }
                else
                {
                    LogServed(_logger, queue.Key, task, workers.Count);
                }
            }
        }

        lock (_gate)
        {
            ArmLocked();
        }
    }

    /// <summary>Checks the pairs still pending (a host disposed without being stopped), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _pending.Clear();
        }

        _timer.Dispose();
    }

    /// <summary>Adds the workers of this process that serve <paramref name="queue"/> and whose heartbeat the store has not shown yet.</summary>
    private IReadOnlyList<LiveWorker> WithLocal(string queue, IReadOnlyList<LiveWorker> workers)
    {
        lock (_gate)
        {
            var missing = _localWorkers.Where(l => l.Queues.Contains(queue, StringComparer.Ordinal) && !workers.Any(w => w.Host == l.Host && w.Pid == l.Pid)).ToList();
            return missing.Count == 0 ? workers : [.. workers, .. missing];
        }
    }

    private void ArmLocked()
    {
        if (_disposed || _armed || _pending.Count == 0)
        {
            return;
        }

        // Clamped to what a timer accepts: a timer that fires early finds nothing due and re-arms.
        var wait = _pending.Min(p => p.DueAt) - _time.GetUtcNow();
        _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxDelay ? MaxDelay : wait, Timeout.InfiniteTimeSpan);
        _armed = true;
    }

    [LoggerMessage(40, LogLevel.Warning, "No live worker serves queue '{Queue}', to which task {TaskName} is sent: its messages wait there until one does. Check that a worker runs with '{Queue}' among its queues (TypedTasks:Worker:Queues) and uses the same Redis and key prefix as this producer. Warned once per queue and task.")]
    private static partial void LogNoWorker(ILogger logger, string queue, string taskName);

    [LoggerMessage(41, LogLevel.Warning, "The live workers of queue '{Queue}' do not know task {TaskName} (workers: {Workers}): each such task will end Failed (unknown task) and stay in the queue's failed tasks (typedtasks dead list). Deploy a worker that has the task, or check that no other application shares this Redis, key prefix and queue (give each its own key prefix or queues). Warned once per queue and task.")]
    private static partial void LogTaskUnknown(ILogger logger, string queue, string taskName, string workers);

    [LoggerMessage(43, LogLevel.Debug, "Queue '{Queue}' has {Count} live worker(s) that can run task {TaskName}")]
    private static partial void LogServed(ILogger logger, string queue, string taskName, int count);

    [LoggerMessage(44, LogLevel.Debug, "Queue '{Queue}' is served by the worker of this process, which can run task {TaskName}")]
    private static partial void LogServedHere(ILogger logger, string queue, string taskName);

    [LoggerMessage(45, LogLevel.Debug, "Stopping did not wait longer than {Seconds} s for the checks of which workers serve the queues sent to")]
    private static partial void LogFlushCut(ILogger logger, double seconds);

    [LoggerMessage(42, LogLevel.Debug, "Could not ask which workers serve queue '{Queue}'")]
    private static partial void LogCheckFailed(ILogger logger, Exception error, string queue);
}

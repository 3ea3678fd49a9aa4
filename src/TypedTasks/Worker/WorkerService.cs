using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedTasks.Metrics;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// The worker as a hosted service. Its parts: a <see cref="Fetcher"/> fills a bounded
/// <see cref="PrefetchBuffer"/> with started tasks, an <see cref="ExecutorPool"/> of
/// <see cref="WorkerOptions.Concurrency"/> loops runs them, the <see cref="Heartbeat"/> renews the
/// leases of what it holds, the <see cref="Recoverer"/> brings back the tasks of dead workers, the
/// <see cref="Scheduler"/> moves due tasks into their queue, the <see cref="PeriodicScheduler"/> fires
/// the schedules of its queues, and the <see cref="CancellationRelay"/>
/// signals canceled tasks. On stop, fetching ends at once, running tasks get
/// <see cref="WorkerOptions.ShutdownTimeout"/> to finish, and every task fetched but never started
/// goes back to the head of its queue. Code that ignores its cancellation and never returns is
/// left running and named in the log: past the shutdown timeout the stop no longer waits for it,
/// except for synchronous code of a task without a Timeout, which holds an executor's own thread
/// and is waited for until the host gives up (<c>HostOptions.ShutdownTimeout</c>).
/// </summary>
internal sealed class WorkerService : BackgroundService
{
    private readonly TaskClient _client;
    private readonly WorkerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LeaseSet _leases = new();
    private readonly StoreOutage _outage;
    private readonly CancellationRelay _cancellations;
    private readonly TaskExecutor _executor;
    private readonly IReadOnlyDictionary<string, TaskDescriptor> _tasks;
    private readonly CancellationTokenSource _hardStop = new();
    private readonly CancellationTokenSource _hostGaveUp = new();
    private CancellationTokenRegistration _hostGaveUpRelay;

    private readonly WorkerStatus _status;
    private readonly MetricsRecorder _metrics;

    public WorkerService(TaskClient client, IOptions<WorkerOptions> options, IServiceProvider services, TimeProvider time, ILogger<WorkerService> logger, WorkerStatus status)
    {
        _client = client;
        _status = status;
        _options = options.Value;
        _options.Validate();
        _time = time;
        _logger = logger;
        _tasks = TaskCatalog.BuildTable();
        _outage = new StoreOutage(logger, time);
        _cancellations = new CancellationRelay(client.Store, _leases, _outage, time, logger);
        _metrics = new MetricsRecorder(time);
        _executor = new TaskExecutor(_tasks, client.Store, _cancellations, _outage, services, time, logger, _metrics);
        _cancellations.CancelRunning = _executor.Cancel;

        // Known before the host starts, so that this host's own enqueues never warn for lack of a worker.
        (services.GetService(typeof(QueueCoverage)) as QueueCoverage)?.AddLocalWorker(_options.EffectiveQueues, [.. _tasks.Keys]);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var store = _client.Store;
        var queues = _options.EffectiveQueues;
        Log.WorkerStarted(_logger, _options.Concurrency, string.Join(", ", queues), _tasks.Count);
        var buffer = new PrefetchBuffer(_options.Prefetch);
        var fetcher = new Fetcher(store, queues, buffer, _leases, _status, _outage, _time, _logger);
        var pool = new ExecutorPool(_executor, buffer, _leases, _cancellations, _status, _logger);
        var description = new WorkerDescription(queues, _options.Concurrency, _status, [.. _tasks.Keys]);

        // The heartbeat runs until the very end (it renews the leases of tasks still finishing);
        // the other duties stop with fetching.
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.Run(() => new Heartbeat(store, _leases, description, _outage, _time, _logger).RunAsync(heartbeatStop.Token), CancellationToken.None);
        var metrics = new MetricsFlusher(store, _metrics, _outage, _time, _logger);
        var metricsLoop = Task.Run(() => metrics.RunAsync(heartbeatStop.Token), CancellationToken.None);
        var loops = new List<Task>(_options.Concurrency + 4)
        {
            Task.Run(() => fetcher.RunAsync(stoppingToken), CancellationToken.None),
            Task.Run(() => new Recoverer(store, queues, _outage, _time, _logger).RunAsync(stoppingToken), CancellationToken.None),
            Task.Run(() => new Scheduler(store, queues, _outage, _time, _logger).RunAsync(stoppingToken), CancellationToken.None),
            Task.Run(() => _cancellations.RunAsync(_hardStop.Token), CancellationToken.None),
        };
        if (store is IScheduleStore schedules)
        {
            loops.Add(Task.Run(() => new PeriodicScheduler(_client, schedules, queues, _tasks, _outage, _time, _logger).RunAsync(stoppingToken), CancellationToken.None));
        }

        var duties = loops.Count;
        loops.AddRange(pool.Start(_options.Concurrency, stoppingToken, _hardStop.Token));
        var all = Task.WhenAll(loops);
        _status.SetRunning(true);
        await Task.WhenAny(all, Task.Delay(Timeout.Infinite, stoppingToken)).ConfigureAwait(false);
        _status.SetRunning(false);

        // Tasks fetched and never started go back to the head of their queue, newest first, so
        // that the oldest is at the head again.
        var unstarted = new List<Store.TaskLease>(buffer.Close());
        await Task.WhenAll(loops[0]).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        unstarted.AddRange(fetcher.Unhanded);
        for (var i = unstarted.Count - 1; i >= 0; i--)
        {
            await ReleaseAsync(store, unstarted[i]).ConfigureAwait(false);
        }

        if (pool.Running > 0)
        {
            Log.WorkerStopping(_logger, _options.ShutdownTimeout, pool.Running);
        }

        // The cancellation watch ends only at the hard stop, so "all" is the executors here.
        var executors = Task.WhenAll(loops.GetRange(duties, loops.Count - duties));
        var graceful = Task.Delay(_options.ShutdownTimeout, _time, _hostGaveUp.Token);
        if (await Task.WhenAny(executors, graceful).ConfigureAwait(false) != executors)
        {
            LogShutdownTimedOut(pool.Running);
            await _hardStop.CancelAsync().ConfigureAwait(false);

            // The executors stop waiting for code that ignores its token, but synchronous
            // code of a task without a Timeout holds its executor's own thread: that is
            // waited for only until the host itself gives up (HostOptions.ShutdownTimeout).
            await Task.WhenAny(executors, Task.Delay(Timeout.Infinite, _hostGaveUp.Token)).ConfigureAwait(false);
        }

        await _hardStop.CancelAsync().ConfigureAwait(false);
        await heartbeatStop.CancelAsync().ConfigureAwait(false);
        await heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await metricsLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await metrics.FinalFlushAsync().ConfigureAwait(false);
        try
        {
            await store.LeaveAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (TransportException)
        {
            // The registration expires on its own.
        }

        var now = _time.GetUtcNow();
        foreach (var run in _executor.Unreturned)
        {
            Log.Abandoned(_logger, run.TaskName, run.Id, now - run.StartedAt);
        }
    }

    /// <summary>One try: a task that cannot be released now comes back when its lease expires.</summary>
    private async Task ReleaseAsync(ITaskStore store, Store.TaskLease lease)
    {
        try
        {
            await store.CompleteAsync(lease, TaskCompletion.Released(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (TransportException)
        {
        }
        finally
        {
            _leases.Remove(lease);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host's token is cancelled at its own shutdown timeout; past it, nothing waits for
        // this worker any more, so it stops waiting for code that never returns (ExecuteAsync).
        // Kept until Dispose: the base returns at that same cancellation, maybe before this runs.
        _hostGaveUpRelay.Dispose();
        _hostGaveUpRelay = cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _hostGaveUp);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _hostGaveUpRelay.Dispose();

        // A worker the host gave up on may still be finishing its stop, with these sources.
        if (ExecuteTask is null or { IsCompleted: true })
        {
            _hardStop.Dispose();
            _hostGaveUp.Dispose();
        }

        base.Dispose();
    }

    /// <summary>
    /// Says what the hard stop does: runs not yet settled are canceled and go back to their queue;
    /// runs already settled (failed at their limit, canceled) whose code still holds its slot are
    /// no longer waited for, and nothing of theirs goes back.
    /// </summary>
    private void LogShutdownTimedOut(int running)
    {
        var ended = _executor.EndedHoldingSlot;
        var unsettled = Math.Max(0, running - ended);
        if (unsettled > 0)
        {
            Log.ShutdownTimedOut(_logger, unsettled);
        }

        if (ended > 0)
        {
            Log.ShutdownTimedOutEnded(_logger, ended);
        }
    }
}

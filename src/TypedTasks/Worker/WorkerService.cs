using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// The worker as a hosted service: one fetcher fills a bounded buffer of leases (the prefetch),
/// <see cref="WorkerOptions.Concurrency"/> executor loops drain it. On stop, fetching ends at
/// once, running tasks get <see cref="WorkerOptions.ShutdownTimeout"/> to finish, and every
/// lease that never started goes back to its queue. Code that ignores its cancellation and never
/// returns is left running and named in the log: past the shutdown timeout the stop no longer waits
/// for it, except for synchronous code of a task without a Timeout, which holds an executor's own
/// thread and is waited for until the host gives up (<c>HostOptions.ShutdownTimeout</c>).
/// </summary>
internal sealed class WorkerService : BackgroundService
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private readonly TaskClient _client;
    private readonly WorkerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskExecutor _executor;
    private readonly IReadOnlyDictionary<string, TaskDescriptor> _tasks;
    private readonly CancellationTokenSource _hardStop = new();
    private readonly CancellationTokenSource _hostGaveUp = new();
    private CancellationTokenRegistration _hostGaveUpRelay;
    private int _running;
    private TaskCompletionSource? _drained;

    private readonly WorkerStatus _status;

    public WorkerService(TaskClient client, IOptions<WorkerOptions> options, IServiceProvider services, TimeProvider time, ILogger<WorkerService> logger, WorkerStatus status)
    {
        _client = client;
        _status = status;
        _options = options.Value;
        _options.Validate();
        _time = time;
        _logger = logger;
        _tasks = TaskCatalog.BuildTable();
        _executor = new TaskExecutor(_tasks, client.Results, services, time, logger);

        // Known before the host starts, so that this host's own enqueues never warn for lack of a worker.
        (services.GetService(typeof(QueueCoverage)) as QueueCoverage)?.AddLocalWorker(_options.EffectiveQueues, [.. _tasks.Keys]);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = _options.EffectiveQueues;
        Log.WorkerStarted(_logger, _options.Concurrency, string.Join(", ", queues), _tasks.Count);
        var buffer = Channel.CreateBounded<ITaskLease>(new BoundedChannelOptions(_options.Prefetch)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,

            // An idle executor takes a fetched message on the fetcher's thread, up to its start
            // request; the task itself runs only after the start completes, on another thread.
            AllowSynchronousContinuations = true,
        });

        var loops = new List<Task>(_options.Concurrency + 2)
        {
            Task.Run(() => FetchLoopAsync(queues, buffer, stoppingToken), CancellationToken.None),
            Task.Run(() => _client.Broker.RunWorkerServicesAsync(new WorkerDescription(queues, _options.Concurrency, _status, [.. _tasks.Keys]), stoppingToken), CancellationToken.None),
        };
        for (var i = 0; i < _options.Concurrency; i++)
        {
            loops.Add(Task.Run(() => ExecuteLoopAsync(buffer.Reader, stoppingToken), CancellationToken.None));
        }

        loops.Add(Task.Run(() => WatchCancellationsAsync(stoppingToken), CancellationToken.None));
        var all = Task.WhenAll(loops);
        _status.SetRunning(true);
        await Task.WhenAny(all, Task.Delay(Timeout.Infinite, stoppingToken)).ConfigureAwait(false);
        _status.SetRunning(false);
        if (!all.IsCompleted)
        {
            Log.WorkerStopping(_logger, _options.ShutdownTimeout, Volatile.Read(ref _running));
            var graceful = Task.Delay(_options.ShutdownTimeout, _time, _hostGaveUp.Token);
            if (await Task.WhenAny(all, graceful).ConfigureAwait(false) != all)
            {
                LogShutdownTimedOut();
                await _hardStop.CancelAsync().ConfigureAwait(false);

                // The executors stop waiting for code that ignores its token, but synchronous
                // code of a task without a Timeout holds its executor's own thread: that is
                // waited for only until the host itself gives up (HostOptions.ShutdownTimeout).
                await Task.WhenAny(all, Task.Delay(Timeout.Infinite, _hostGaveUp.Token)).ConfigureAwait(false);
            }
        }

        var now = _time.GetUtcNow();
        foreach (var run in _executor.Unreturned)
        {
            Log.Abandoned(_logger, run.TaskName, run.Id, now - run.StartedAt);
        }

        // Leases that were fetched but never started go back to the head of their queue, newest
        // first, so that the oldest is at the head again.
        buffer.Writer.TryComplete();
        var unstarted = new List<ITaskLease>();
        while (buffer.Reader.TryRead(out var lease))
        {
            unstarted.Add(lease);
        }

        for (var i = unstarted.Count - 1; i >= 0; i--)
        {
            await unstarted[i].DisposeAsync().ConfigureAwait(false);
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

    private async Task FetchLoopAsync(IReadOnlyList<string> queues, Channel<ITaskLease> buffer, CancellationToken stop)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            IReadOnlyList<ITaskLease> leases;
            try
            {
                if (!await buffer.Writer.WaitToWriteAsync(stop).ConfigureAwait(false))
                {
                    return;
                }

                await WaitUntilDrainedAsync(buffer.Reader, stop).ConfigureAwait(false);

                var room = Math.Max(1, _options.Prefetch - buffer.Reader.Count);
                leases = await _client.Broker.FetchAsync(queues, room, stop).ConfigureAwait(false);
                if (failures > 0)
                {
                    Log.FetchWorksAgain(_logger, failures);
                    failures = 0;
                }

                backoff.Reset();
                _status.FetchSucceeded();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var delay = backoff.Next();
                failures++;
                _status.FetchFailed(ex, _time.GetUtcNow());
                LogFetchFailure(ex, delay, failures);
                try
                {
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            for (var i = 0; i < leases.Count; i++)
            {
                // Never blocks for long: the fetch asked for no more than the free room.
                if (stop.IsCancellationRequested || !buffer.Writer.TryWrite(leases[i]))
                {
                    try
                    {
                        await buffer.Writer.WriteAsync(leases[i], stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        for (var j = leases.Count - 1; j >= i; j--)
                        {
                            await leases[j].DisposeAsync().ConfigureAwait(false);
                        }

                        return;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Says what the hard stop does: runs not yet settled are canceled and go back to their queue;
    /// runs already settled (failed at their limit, canceled) whose code still holds its slot are
    /// no longer waited for, and nothing of theirs goes back.
    /// </summary>
    private void LogShutdownTimedOut()
    {
        var ended = _executor.EndedHoldingSlot;
        var unsettled = Math.Max(0, Volatile.Read(ref _running) - ended);
        if (unsettled > 0)
        {
            Log.ShutdownTimedOut(_logger, unsettled);
        }

        if (ended > 0)
        {
            Log.ShutdownTimedOutEnded(_logger, ended);
        }
    }

    /// <summary>
    /// An unreachable transport is a line (its message says what to check), first in full, then
    /// short; anything else is a bug to see, with its stack trace.
    /// </summary>
    private void LogFetchFailure(Exception error, TimeSpan delay, int failures)
    {
        if (error is not TransportException)
        {
            Log.FetchFailed(_logger, error, delay);
        }
        else if (failures == 1)
        {
            Log.FetchUnreachable(_logger, error.Message, delay);
        }
        else
        {
            Log.FetchStillUnreachable(_logger, failures, delay);
        }
    }

    /// <summary>
    /// Waits until the buffer holds at most half the prefetch. Fetching then fills the other half
    /// in one call, rather than one message each time an executor takes one: fewer, larger
    /// fetches, and the executors have work meanwhile.
    /// </summary>
    private async Task WaitUntilDrainedAsync(ChannelReader<ITaskLease> reader, CancellationToken stop)
    {
        while (true)
        {
            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _drained, drained);
            if (reader.Count <= RefillBelow)
            {
                return;
            }

            await drained.Task.WaitAsync(stop).ConfigureAwait(false);
        }
    }

    private int RefillBelow => _options.Prefetch / 2;

    /// <summary>Relays cancellations from the result backend to the tasks running here, until stop.</summary>
    private async Task WatchCancellationsAsync(CancellationToken stop)
    {
        var backoff = new Backoff(FirstBackoff, MaxBackoff);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var watch = await _client.Results.WatchCancellationsAsync(_executor.Cancel, stop).ConfigureAwait(false);
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (TransportException ex)
            {
                var delay = backoff.Next();
                LogFetchFailure(ex, delay, 1);
                try
                {
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ExecuteLoopAsync(ChannelReader<ITaskLease> reader, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            // ReadAsync hands each message to exactly one idle executor; waiting to read would
            // wake every idle executor for each message, all but one of them for nothing.
            ITaskLease lease;
            try
            {
                lease = await reader.ReadAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                return;
            }

            if (reader.Count <= RefillBelow)
            {
                Interlocked.Exchange(ref _drained, null)?.TrySetResult();
            }

            Interlocked.Increment(ref _running);
            try
            {
                await _executor.RunAsync(lease, _hardStop.Token).ConfigureAwait(false);
                _status.Finished();
            }
            catch (Exception ex)
            {
                // The backend or broker failed while settling: the lease went back (or stays
                // leased) and the message will be delivered again.
                Log.RunFailed(_logger, ex);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}

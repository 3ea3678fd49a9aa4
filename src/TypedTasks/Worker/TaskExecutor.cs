using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Diagnostics;
using TypedTasks.Metrics;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// Runs one started task to a settled end: decode, check expiry, run the task through its generated
/// invoker, then settle its lease with the outcome in one store operation (result and
/// acknowledgement together). A crash before the settle leaves the lease to expire: the task comes
/// back and runs again; a settle of a lease that is no longer this run's changes nothing.
/// </summary>
internal sealed class TaskExecutor(
    IReadOnlyDictionary<string, TaskDescriptor> tasks,
    ITaskStore store,
    CancellationRelay cancellations,
    StoreOutage outage,
    IServiceProvider services,
    TimeProvider time,
    ILogger logger,
    MetricsRecorder metrics)
{
    internal const string UnknownTaskError = "TypedTasks.UnknownTask";
    internal const string UnreadableMessageError = "TypedTasks.UnreadableMessage";

    // Keyed by run, not by task id: a retry may start while the code of the run before it still runs.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<RunningTask, byte> _running = new();
    private readonly FireTimeHold _hold = new(time);
    private int _endedHoldingSlot;
    // This part's name in the worker's outage account: its failures and its successes name it alike.
    private const string SettlePart = "settling a task";
    private static readonly TimeSpan FirstPersistDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPersistDelay = TimeSpan.FromSeconds(2);

    /// <summary>Runs the task; <paramref name="hardStop"/> interrupts a run, which releases the task back to its queue.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RunAsync(TaskLease lease, CancellationToken hardStop)
    {
        // The caller may be the fetcher's thread (an executor takes a task there); a task never
        // runs on it, so a long task cannot hold up fetching.
        var takenOn = Environment.CurrentManagedThreadId;
        TaskEnvelope envelope;
        try
        {
            envelope = TaskEnvelope.Read(lease.Envelope);
        }
        catch (InvalidEnvelopeException ex)
        {
            await FailUnrunnableAsync(lease, UnreadableMessageError, ex.Message, hardStop).ConfigureAwait(false);
            return;
        }

        if (cancellations.WasCanceled(lease.Id))
        {
            await SettleCanceledAsync(lease, envelope, hardStop).ConfigureAwait(false);
            return;
        }

        if (!tasks.TryGetValue(envelope.TaskName, out var task))
        {
            await FailUnrunnableAsync(lease, UnknownTaskError, UnknownTaskReason.For(envelope.TaskName, lease.Queue), hardStop).ConfigureAwait(false);
            return;
        }

        var hold = _hold.WaitAsync(envelope.ScheduledFor, hardStop);
        if (!hold.IsCompletedSuccessfully)
        {
            // A fire fetched before its fire time waits for it here, in this executor's slot, its
            // lease renewed; a hard stop sends it back to its queue unstarted, like a run it
            // interrupts, also one that had come as the hold began (the hold is canceled already).
            try
            {
                await hold.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
            {
                Log.Interrupted(logger, envelope.TaskName, lease.Id);
                await PersistAsync(lease, TaskCompletion.Released(), CancellationToken.None, once: true).ConfigureAwait(false);
                return;
            }

            if (cancellations.WasCanceled(lease.Id))
            {
                await SettleCanceledAsync(lease, envelope, hardStop).ConfigureAwait(false);
                return;
            }
        }

        var now = time.GetUtcNow();
        if (envelope.ExpiresAt is { } expiresAt && expiresAt <= now)
        {
            Log.Expired(logger, envelope.TaskName, lease.Id, expiresAt);
            await SettleAsync(lease, TaskCompletion.Expired(), hardStop).ConfigureAwait(false);
            return;
        }

        if (task.Timeout is null && Environment.CurrentManagedThreadId == takenOn)
        {
            await Task.Yield();
        }

        await RunTaskAsync(lease, envelope, task, hardStop).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunTaskAsync(TaskLease lease, TaskEnvelope envelope, TaskDescriptor task, CancellationToken hardStop)
    {
        var startedAt = time.GetUtcNow();
        var attempt = lease.Attempt;
        // Tagged at each use, not kept in a local: this method's state (boxed once per run) stays small.
        TaskTelemetry.Count(TaskTelemetry.Started, envelope.TaskName, lease.Queue);
        TaskTelemetry.Record(TaskTelemetry.QueueWait, Math.Max(0, (startedAt - (envelope.Eta ?? envelope.EnqueuedAt)).TotalSeconds), envelope.TaskName, lease.Queue);
        using var activity = TaskTelemetry.StartProcess(envelope.TaskName, lease.Queue, lease.Id, attempt, envelope.Headers);
        var startedTicks = Stopwatch.GetTimestamp();
        var running = new RunningTask(envelope.TaskName, lease.Id, startedAt, task.Timeout, time, hardStop);
        _running.TryAdd(running, 0);

        // A cancel that came after the check in RunAsync and before the run was registered found
        // no run to signal: the relay kept it, and it is applied now. The barrier orders the
        // registration before the look (the relay keeps the id before it looks for the run).
        Interlocked.MemoryBarrier();
        if (cancellations.WasCanceled(lease.Id))
        {
            running.Cancel();
        }

        var invocation = new TaskInvocation(services, lease, envelope, task.MaxRetries, running, store, logger);
        ReadOnlyMemory<byte> result = default;
        Exception? error = null;
        Task<ReadOnlyMemory<byte>>? code = null;
        try
        {
            if (task.Timeout is null)
            {
                // Most tasks finish at once: without a limit to enforce, the code runs on this
                // thread, and a thread hop would only add latency.
                var pending = task.Invoker(invocation);
                running.MarkInvoked();
                if (pending.IsCompleted)
                {
                    result = await pending.ConfigureAwait(false);
                }
                else
                {
                    code = pending.AsTask();
                }
            }
            else
            {
                // Under a limit the code runs on a pool thread, so that this run can end at the
                // limit even when the code is synchronous and never looks at its token.
                code = Task.Run(() => Invoke(task, invocation, running), CancellationToken.None);
            }

            if (code is not null)
            {
                // Code that ignores its token is not waited for past the limit, a cancel or a hard stop.
                result = await code.WaitAsync(running.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        // Code still running here ignored its token: it cannot be aborted, so it is left to
        // return on its own and whatever it returns is discarded.
        var returned = code is null || code.IsCompleted;

        // The last progress report is stored before the final state, so that a reader who sees the
        // task end also sees its last progress.
        await invocation.FlushProgressAsync(hardStop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (returned)
        {
            await ReleaseAsync(running, invocation).ConfigureAwait(false);
        }

        if (running.Canceled)
        {
            // Canceled while it ran: the Canceled state is stored and, being final, stays.
            Log.Canceled(logger, envelope.TaskName, lease.Id);
            await SettleAsync(lease, TaskCompletion.Canceled(), hardStop).ConfigureAwait(false);
            await HoldSlotAsync(code, returned, running, invocation, hardStop).ConfigureAwait(false);
            return;
        }

        var took = Stopwatch.GetElapsedTime(startedTicks);
        TaskTelemetry.Record(TaskTelemetry.Duration, took.TotalSeconds, envelope.TaskName, lease.Queue);
        if (error is null)
        {
            metrics.Record(envelope.TaskName, failed: false, took);
            TaskTelemetry.Count(TaskTelemetry.Succeeded, envelope.TaskName, lease.Queue);
            activity?.SetStatus(ActivityStatusCode.Ok);
            Log.Succeeded(logger, envelope.TaskName, lease.Id, took.TotalMilliseconds);
            await SettleAsync(lease, TaskCompletion.Succeeded(result), hardStop).ConfigureAwait(false);
            return;
        }

        if (hardStop.IsCancellationRequested && error is OperationCanceledException)
        {
            // Interrupted by shutdown, not failed: the task goes back to the head of its queue and
            // this run does not count. One try: if the store cannot be reached, the lease expires
            // and the task comes back all the same. Code that has not returned is left running;
            // the worker names it as it stops.
            Log.Interrupted(logger, envelope.TaskName, lease.Id);
            await PersistAsync(lease, TaskCompletion.Released(), CancellationToken.None, once: true).ConfigureAwait(false);
            ReleaseWhenReturned(code, returned, running, invocation);
            return;
        }

        // Only the worker's limit is a task timeout: an exception the task threw itself (its own
        // TimeoutException from an HTTP call, say) is its error as it is.
        if (task.Timeout is { } limit && running.LimitReached && (!returned || error is OperationCanceledException))
        {
            error = new TaskTimeoutException(task.Name, limit);
        }

        metrics.Record(envelope.TaskName, failed: true, took);
        var recorded = new TaskError(error.GetType().FullName ?? error.GetType().Name, error.Message, error.ToString());
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.AddException(error);
        var retryable = error is not TaskArgumentException;
        var retriesSoFar = attempt - 1;
        if (retryable && retriesSoFar < task.MaxRetries)
        {
            var delay = RetryPolicy.Delay(task.RetryDelay, retriesSoFar, Random.Shared.NextDouble());
            Log.Retrying(logger, error, envelope.TaskName, lease.Id, attempt, delay);
            TaskTelemetry.Count(TaskTelemetry.Retried, envelope.TaskName, lease.Queue);
            await SettleAsync(lease, TaskCompletion.Retry(recorded, time.GetUtcNow() + delay), hardStop).ConfigureAwait(false);
        }
        else
        {
            Log.Failed(logger, error, envelope.TaskName, lease.Id, attempt);
            TaskTelemetry.Count(TaskTelemetry.Failed, envelope.TaskName, lease.Queue);
            TaskTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>(TaskTelemetry.QueueTag, lease.Queue));
            await SettleAsync(lease, TaskCompletion.Failed(recorded), hardStop).ConfigureAwait(false);
        }

        await HoldSlotAsync(code, returned, running, invocation, hardStop).ConfigureAwait(false);
    }

    /// <summary>The code of a task with a Timeout, on a pool thread.</summary>
    private static Task<ReadOnlyMemory<byte>> Invoke(TaskDescriptor task, TaskInvocation invocation, RunningTask running)
    {
        var pending = task.Invoker(invocation);
        running.MarkInvoked();
        return pending.AsTask();
    }

    /// <summary>
    /// After a run was settled while its code still runs (past its limit, or canceled), keeps the
    /// run's worker slot until the code returns, so that no more than Concurrency runs hold
    /// threads at once; a hard stop ends the wait and leaves the code running.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HoldSlotAsync(Task<ReadOnlyMemory<byte>>? code, bool returned, RunningTask running, TaskInvocation invocation, CancellationToken hardStop)
    {
        if (returned || code is null)
        {
            return;
        }

        // Synchronous code holds a thread and may run long; async code that ignored its token
        // mostly ends soon after, and is not worth a warning.
        var holdsThread = !running.Invoked;
        if (holdsThread)
        {
            Log.HoldingThread(logger, running.TaskName, running.Id);
        }

        Interlocked.Increment(ref _endedHoldingSlot);
        try
        {
            await ((Task)code).WaitAsync(hardStop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            Interlocked.Decrement(ref _endedHoldingSlot);
        }

        if (!code.IsCompleted)
        {
            ReleaseWhenReturned(code, returned, running, invocation);
            return;
        }

        _ = code.Exception; // discarded with the rest of the late outcome
        if (holdsThread)
        {
            Log.ReturnedLate(logger, running.TaskName, running.Id, time.GetUtcNow() - running.StartedAt);
        }

        await ReleaseAsync(running, invocation).ConfigureAwait(false);
    }

    /// <summary>Frees what a run's code uses (its token, its DI scope) once the code has returned, which may be after this run ended.</summary>
    private void ReleaseWhenReturned(Task<ReadOnlyMemory<byte>>? code, bool returned, RunningTask running, TaskInvocation invocation)
    {
        if (!returned && code is not null)
        {
            _ = ReleaseAfterAsync(code, running, invocation);
        }
    }

    private async Task ReleaseAfterAsync(Task<ReadOnlyMemory<byte>> code, RunningTask running, TaskInvocation invocation)
    {
        await ((Task)code).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ = code.Exception; // discarded with the rest of the late outcome
        try
        {
            await ReleaseAsync(running, invocation).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nothing waits for this any more: a failing dispose of the run's services is only logged.
            Log.LateReleaseFailed(logger, ex, running.TaskName, running.Id);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseAsync(RunningTask running, TaskInvocation invocation)
    {
        _running.TryRemove(running, out _);
        running.Dispose();
        await invocation.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs already settled (failed at their limit, canceled) whose code still holds its slot: a
    /// hard stop sends none of them back to their queue.
    /// </summary>
    public int EndedHoldingSlot => Volatile.Read(ref _endedHoldingSlot);

    /// <summary>Runs whose code has not returned: running now, or left running after their run ended.</summary>
    public IReadOnlyList<RunningTask> Unreturned => [.. _running.Keys];

    /// <summary>Signals the token of a task running here that was canceled; does nothing for others.</summary>
    public void Cancel(string id)
    {
        foreach (var running in _running.Keys)
        {
            if (running.Id == id)
            {
                running.Cancel();
            }
        }
    }

    /// <summary>Canceled after the fetch started it and before it ran: its Canceled state is stored.</summary>
    private ValueTask SettleCanceledAsync(TaskLease lease, TaskEnvelope envelope, CancellationToken hardStop)
    {
        Log.AlreadyFinal(logger, envelope.TaskName, lease.Id, TaskState.Canceled);
        return SettleAsync(lease, TaskCompletion.Canceled(), hardStop);
    }

    /// <summary>
    /// A task that can never run here (an unreadable message, a task this worker does not know):
    /// it ends Failed with the reason, in its queue's failed (dead) tasks, at once and once, so
    /// that it is never delivered again at full speed.
    /// </summary>
    private async ValueTask FailUnrunnableAsync(TaskLease lease, string errorType, string reason, CancellationToken hardStop)
    {
        Log.DeadLettered(logger, lease.Queue, lease.Id, reason);
        TaskTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>(TaskTelemetry.QueueTag, lease.Queue));
        await SettleAsync(lease, TaskCompletion.Failed(new TaskError(errorType, reason, null)), hardStop).ConfigureAwait(false);
    }

    private ValueTask SettleAsync(TaskLease lease, TaskCompletion completion, CancellationToken hardStop)
        => PersistAsync(lease, completion, hardStop);

    private async ValueTask Settle(TaskLease lease, TaskCompletion completion)
    {
        if (!await store.CompleteAsync(lease, completion, CancellationToken.None).ConfigureAwait(false))
        {
            // The lease expired (this worker was cut off or frozen longer than the lease) and the
            // task was recovered: another run owns it now, and this outcome is dropped.
            Log.LeaseLost(logger, lease.Id, lease.Queue, completion.Kind);
        }
    }

    /// <summary>
    /// Settles a lease with an outcome (a state, an ack, a retry, a dead letter), retrying
    /// it with backoff while the transport is unreachable (<see cref="TransportException"/>), so
    /// that a broker restart delays outcomes but never loses them. It gives up only when the
    /// worker is forced to stop; the message then stays with the broker and is delivered again.
    /// The lease and outcome are passed as they are, not in a closure: one settle per task.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PersistAsync(TaskLease lease, TaskCompletion completion, CancellationToken hardStop, bool once = false)
    {
        var backoff = new Backoff(FirstPersistDelay, MaxPersistDelay);
        while (true)
        {
            var startedAt = time.GetUtcNow();
            try
            {
                await Settle(lease, completion).ConfigureAwait(false);
                outage.Reached(SettlePart);
                return;
            }
            catch (TransportException ex) when (!once && !hardStop.IsCancellationRequested)
            {
                // The worker's one outage account says what to check, once per outage.
                var delay = backoff.Next();
                outage.Failed(SettlePart, ex, delay, startedAt);
                await Task.Delay(delay, time, hardStop).ConfigureAwait(false);
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Diagnostics;
using TypedTasks.Serialization;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// Runs one fetched message to a settled end: decode, check expiry and the stored state, run the
/// task through its generated invoker, store the outcome, then ack, retry or dead-letter. The
/// state is always stored before the message is settled, so a crash in between leads to a
/// redelivery that finds the final state and does not run the task again.
/// </summary>
internal sealed class TaskExecutor(
    IReadOnlyDictionary<string, TaskDescriptor> tasks,
    IResultBackend results,
    IServiceProvider services,
    TimeProvider time,
    ILogger logger)
{
    internal const string UnknownTaskError = "TypedTasks.UnknownTask";
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RunningTask> _running = new(StringComparer.Ordinal);
    private static readonly TimeSpan FirstPersistDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPersistDelay = TimeSpan.FromSeconds(2);

    /// <summary>Runs the message; <paramref name="hardStop"/> interrupts a run, which leaves the lease unsettled.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RunAsync(ITaskLease lease, CancellationToken hardStop)
    {
        // The caller may be the fetcher's thread (an executor takes a message there); a task
        // never runs on it, so a long task cannot hold up fetching.
        var takenOn = Environment.CurrentManagedThreadId;
        await using (lease.ConfigureAwait(false))
        {
            TaskEnvelope envelope;
            try
            {
                envelope = TaskEnvelope.Read(lease.Body);
            }
            catch (InvalidEnvelopeException ex)
            {
                await DeadLetterAsync(lease, ex.Message, hardStop).ConfigureAwait(false);
                return;
            }

            if (!tasks.TryGetValue(envelope.TaskName, out var task))
            {
                var reason = UnknownTaskReason.For(envelope.TaskName, lease.Queue);
                await PersistAsync(() => results.SetAsync(Final(envelope, TaskState.Failed, new TaskError(UnknownTaskError, reason, null)), CancellationToken.None), hardStop).ConfigureAwait(false);
                await DeadLetterAsync(lease, reason, hardStop).ConfigureAwait(false);
                return;
            }

            var now = time.GetUtcNow();
            if (envelope.ExpiresAt is { } expiresAt && expiresAt <= now)
            {
                Log.Expired(logger, envelope.TaskName, envelope.Id, expiresAt);
                await PersistAsync(() => results.SetAsync(Final(envelope, TaskState.Expired, null), CancellationToken.None), hardStop).ConfigureAwait(false);
                await PersistAsync(() => lease.AckAsync(CancellationToken.None), hardStop).ConfigureAwait(false);
                return;
            }

            var started = new TaskInfo(envelope.Id, envelope.TaskName, TaskState.Started, envelope.Attempt, now, null, ReadOnlyMemory<byte>.Empty) { Queue = lease.Queue, Worker = WorkerIdentity.Name };
            TaskInfo? final = null;
            await PersistAsync(async () => final = await results.TryStartAsync(started, CancellationToken.None).ConfigureAwait(false), hardStop).ConfigureAwait(false);
            if (final is not null)
            {
                Log.AlreadyFinal(logger, envelope.TaskName, envelope.Id, final.State);
                await PersistAsync(() => lease.AckAsync(CancellationToken.None), hardStop).ConfigureAwait(false);
                return;
            }

            if (Environment.CurrentManagedThreadId == takenOn)
            {
                await Task.Yield();
            }

            await RunTaskAsync(lease, envelope, task, hardStop).ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunTaskAsync(ITaskLease lease, TaskEnvelope envelope, TaskDescriptor task, CancellationToken hardStop)
    {
        var tags = TaskTelemetry.Tags(envelope.TaskName, lease.Queue);
        var startedAt = time.GetUtcNow();
        TaskTelemetry.Started.Add(1, tags);
        TaskTelemetry.QueueWait.Record(Math.Max(0, (startedAt - (envelope.Eta ?? envelope.EnqueuedAt)).TotalSeconds), tags);
        using var activity = TaskTelemetry.StartProcess(envelope.TaskName, lease.Queue, envelope.Id, envelope.Attempt, envelope.Headers);
        var watch = Stopwatch.StartNew();
        ReadOnlyMemory<byte> result = default;
        Exception? error = null;
        using var run = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
        if (task.Timeout is { } limit)
        {
            run.CancelAfter(limit);
        }

        var running = new RunningTask(run);
        _running[envelope.Id] = running;

        var invocation = new TaskInvocation(services, envelope.TaskName, envelope.Arguments, TaskSerializer.Options, run.Token);
        await using (invocation.ConfigureAwait(false))
        {
            try
            {
                var pending = task.Invoker(invocation);
                result = task.Timeout is { } timeout && !pending.IsCompleted
                    ? await pending.AsTask().WaitAsync(timeout, time, CancellationToken.None).ConfigureAwait(false)
                    : await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                error = ex;
            }
            finally
            {
                _running.TryRemove(envelope.Id, out _);
            }
        }

        if (running.Canceled)
        {
            // Canceled while it ran: the Canceled state is stored and, being final, stays.
            Log.Canceled(logger, envelope.TaskName, envelope.Id);
            await PersistAsync(() => lease.AckAsync(CancellationToken.None), hardStop).ConfigureAwait(false);
            return;
        }

        TaskTelemetry.Duration.Record(watch.Elapsed.TotalSeconds, tags);
        if (error is null)
        {
            TaskTelemetry.Succeeded.Add(1, tags);
            activity?.SetStatus(ActivityStatusCode.Ok);
            Log.Succeeded(logger, envelope.TaskName, envelope.Id, watch.Elapsed.TotalMilliseconds);
            var succeeded = new TaskInfo(envelope.Id, envelope.TaskName, TaskState.Succeeded, envelope.Attempt, time.GetUtcNow(), null, result);
            await PersistAsync(() => results.SetAsync(succeeded, CancellationToken.None), hardStop).ConfigureAwait(false);
            await PersistAsync(() => lease.AckAsync(CancellationToken.None), hardStop).ConfigureAwait(false);
            return;
        }

        if (hardStop.IsCancellationRequested && error is OperationCanceledException)
        {
            // Interrupted by shutdown, not failed: the unsettled lease goes back to its queue.
            Log.Interrupted(logger, envelope.TaskName, envelope.Id);
            var pending = new TaskInfo(envelope.Id, envelope.TaskName, TaskState.Pending, envelope.Attempt, time.GetUtcNow(), null, default);
            await PersistAsync(() => results.SetAsync(pending, CancellationToken.None), CancellationToken.None, once: true).ConfigureAwait(false);
            return;
        }

        if (task.Timeout is { } t && (error is TimeoutException || (error is OperationCanceledException && run.IsCancellationRequested)))
        {
            run.Cancel();
            error = new TaskTimeoutException(task.Name, t);
        }

        var recorded = new TaskError(error.GetType().FullName ?? error.GetType().Name, error.Message, error.ToString());
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.AddException(error);
        var retryable = error is not TaskArgumentException;
        if (retryable && envelope.Attempt < task.MaxRetries)
        {
            var delay = RetryPolicy.Delay(task.RetryDelay, envelope.Attempt, Random.Shared.NextDouble());
            Log.Retrying(logger, error, envelope.TaskName, envelope.Id, envelope.Attempt + 1, delay);
            TaskTelemetry.Retried.Add(1, tags);
            var now = time.GetUtcNow();
            var retrying = new TaskInfo(envelope.Id, envelope.TaskName, TaskState.Retrying, envelope.Attempt, now, recorded, default);
            var next = envelope.WithAttempt(envelope.Attempt + 1);
            await PersistAsync(() => results.SetAsync(retrying, CancellationToken.None), hardStop).ConfigureAwait(false);
            await PersistAsync(() => lease.RetryAsync(next, envelope.Priority, now + delay, CancellationToken.None), hardStop).ConfigureAwait(false);
            return;
        }

        Log.Failed(logger, error, envelope.TaskName, envelope.Id, envelope.Attempt + 1);
        TaskTelemetry.Failed.Add(1, tags);
        var failed = Final(envelope, TaskState.Failed, recorded);
        await PersistAsync(() => results.SetAsync(failed, CancellationToken.None), hardStop).ConfigureAwait(false);
        await DeadLetterAsync(lease, $"failed after {envelope.Attempt + 1} run(s): {recorded.Type}: {recorded.Message}", hardStop).ConfigureAwait(false);
    }

    /// <summary>Signals the token of a task running here that was canceled; does nothing for others.</summary>
    public void Cancel(string id)
    {
        if (_running.TryGetValue(id, out var running))
        {
            running.Canceled = true;
            try
            {
                running.Source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It has just finished.
            }
        }
    }

    private TaskInfo Final(TaskEnvelope envelope, TaskState state, TaskError? error)
        => new(envelope.Id, envelope.TaskName, state, envelope.Attempt, time.GetUtcNow(), error, default);

    private async ValueTask DeadLetterAsync(ITaskLease lease, string reason, CancellationToken hardStop)
    {
        Log.DeadLettered(logger, lease.Queue, reason);
        TaskTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>(TaskTelemetry.QueueTag, lease.Queue));
        await PersistAsync(() => lease.DeadLetterAsync(reason, CancellationToken.None), hardStop).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a write that records an outcome (a state, an ack, a retry, a dead letter), retrying
    /// it with backoff while the transport is unreachable (<see cref="TransportException"/>), so
    /// that a broker restart delays outcomes but never loses them. It gives up only when the
    /// worker is forced to stop; the message then stays with the broker and is delivered again.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PersistAsync(Func<ValueTask> write, CancellationToken hardStop, bool once = false)
    {
        var backoff = new Backoff(FirstPersistDelay, MaxPersistDelay);
        while (true)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (TransportException ex) when (!once && !hardStop.IsCancellationRequested)
            {
                var delay = backoff.Next();
                Log.PersistRetrying(logger, ex, delay);
                await Task.Delay(delay, time, hardStop).ConfigureAwait(false);
            }
        }
    }

    private sealed class RunningTask(CancellationTokenSource source)
    {
        public CancellationTokenSource Source => source;

        public volatile bool Canceled;
    }
}

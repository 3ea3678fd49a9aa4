using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Transport;

/// <summary>
/// A broker speaks queue operations on opaque message bodies (encoded envelopes); it never looks
/// inside them. Implementations: the in-memory broker and the Redis broker.
/// </summary>
public interface ITaskBroker : IAsyncDisposable
{
    /// <summary>Appends a message to the tail of <paramref name="queue"/> at <paramref name="priority"/>.</summary>
    ValueTask EnqueueAsync(string queue, ReadOnlyMemory<byte> body, int priority, CancellationToken cancellationToken = default);

    /// <summary>Appends many messages of one priority to the tail of <paramref name="queue"/>, in order, in as few round trips as the broker can.</summary>
    ValueTask EnqueueManyAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, int priority, CancellationToken cancellationToken = default);

    /// <summary>Holds a message until <paramref name="dueAt"/>, then appends it to <paramref name="queue"/>.</summary>
    ValueTask ScheduleAsync(string queue, ReadOnlyMemory<byte> body, int priority, DateTimeOffset dueAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until at least one message is ready in any of <paramref name="queues"/> (or
    /// <paramref name="cancellationToken"/> fires), then leases up to <paramref name="max"/> of
    /// them. Waiting costs no CPU. A broker may return an empty list when its own idle interval
    /// passes with nothing ready; the caller simply asks again.
    /// </summary>
    ValueTask<IReadOnlyList<ITaskLease>> FetchAsync(IReadOnlyList<string> queues, int max, CancellationToken cancellationToken);

    /// <summary>The messages a worker put in a queue's dead-letter list, newest first.</summary>
    ValueTask<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Checks that the broker can be reached; throws <see cref="TransportException"/> when it cannot.</summary>
    ValueTask PingAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs, until <paramref name="stop"/> fires, what a worker keeps doing beside fetching: its
    /// heartbeat (which publishes <paramref name="worker"/> for tools), returning the in-flight
    /// messages of workers whose heartbeat stopped, and moving due scheduled messages into their
    /// queues. A broker that needs none of it returns a completed task.
    /// </summary>
    Task RunWorkerServicesAsync(WorkerDescription worker, CancellationToken stop);

    /// <summary>How many messages are ready in <paramref name="queue"/>: not counting scheduled ones or those a worker holds.</summary>
    ValueTask<long> GetQueueLengthAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// How many messages of <paramref name="queue"/> live workers hold: fetched and not settled yet,
    /// whether waiting in a worker's prefetch buffer or running. Messages held by a worker whose
    /// heartbeat stopped are not counted (they go back to the queue on recovery).
    /// </summary>
    ValueTask<long> GetHeldCountAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>The workers whose heartbeat is alive and that serve <paramref name="queue"/>, as they published themselves.</summary>
    ValueTask<IReadOnlyList<LiveWorker>> GetLiveWorkersAsync(string queue, CancellationToken cancellationToken = default);
}

/// <summary>A running worker as tools see it.</summary>
/// <param name="Queues">The queues it serves, in order.</param>
/// <param name="Concurrency">How many tasks it runs at once.</param>
/// <param name="Status">Its live counters.</param>
/// <param name="Tasks">The names of the tasks it can run, published with its heartbeat; null when not given.</param>
public sealed record WorkerDescription(IReadOnlyList<string> Queues, int Concurrency, WorkerStatus Status, IReadOnlyList<string>? Tasks = null);

/// <summary>A worker with a live heartbeat, as a broker reports it to any process.</summary>
/// <param name="Id">The worker's id on the broker.</param>
/// <param name="Host">The machine it runs on.</param>
/// <param name="Pid">Its process id.</param>
/// <param name="Queues">The queues it serves.</param>
/// <param name="Tasks">The names of the tasks it can run; null when it did not publish them (an older worker, or its heartbeat not yet written).</param>
public sealed record LiveWorker(string Id, string Host, int Pid, IReadOnlyList<string> Queues, IReadOnlyList<string>? Tasks)
{
    /// <summary>Whether this worker is known to run <paramref name="taskName"/>; true when it did not publish its tasks.</summary>
    public bool MayRun(string taskName) => Tasks is null || Tasks.Contains(taskName, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => $"{Id} (host {Host}, pid {Pid})";
}

/// <summary>
/// A fetched message, held by one worker until it settles it. Disposing a lease that was not
/// settled puts the message back at the head of its queue, so nothing is lost on shutdown.
/// </summary>
public interface ITaskLease : IAsyncDisposable
{
    /// <summary>The queue the message came from.</summary>
    string Queue { get; }

    /// <summary>The encoded envelope.</summary>
    ReadOnlyMemory<byte> Body { get; }

    /// <summary>Settles the message: it is done and leaves the broker.</summary>
    ValueTask AckAsync(CancellationToken cancellationToken = default);

    /// <summary>Settles the message and, in one step, schedules <paramref name="body"/> for <paramref name="dueAt"/> in the same queue.</summary>
    ValueTask RetryAsync(ReadOnlyMemory<byte> body, int priority, DateTimeOffset dueAt, CancellationToken cancellationToken = default);

    /// <summary>Settles the message by moving it, verbatim, to its queue's dead-letter list with the reason.</summary>
    ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken = default);
}

/// <summary>A message set aside, verbatim, with why and when.</summary>
/// <param name="Queue">The queue it came from.</param>
/// <param name="Body">The bytes exactly as they were in the queue.</param>
/// <param name="Reason">Why the worker set it aside.</param>
/// <param name="At">When.</param>
public sealed record DeadLetter(string Queue, ReadOnlyMemory<byte> Body, string Reason, DateTimeOffset At);

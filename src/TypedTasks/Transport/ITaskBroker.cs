using System;
using System.Collections.Generic;
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

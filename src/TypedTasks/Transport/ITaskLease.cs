using System;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Transport;

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

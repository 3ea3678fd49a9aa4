using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Waiting for final states. The scripts that make a task final publish its record on the done
/// channel (one message per call, a frame per task); each store holds one subscription and wakes
/// its own waiters from the frames, with no read. A sweep reads again, in batches, the tasks of
/// waiters that are due (first after one <see cref="RedisTransportOptions.ResultPollInterval"/>,
/// then after 2, 4, 8 and at most 16), in case a message was lost; all at once after the
/// subscription reconnects. So 50,000 waiters cost a dictionary entry each, not a poll loop each.
/// </summary>
public sealed partial class RedisTaskStore
{
    private const long MaxSweepGap = 16;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly object _gate = new();
    private readonly Dictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Waiter>.AlternateLookup<ReadOnlySpan<char>> _waitersBySpan;
    private ITimer? _sweep;
    private long _sweeps;

    /// <inheritdoc/>
    public async ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await EnsureDoneAsync().ConfigureAwait(false);

        // A task this store watches needs no read: its frame is kept, or still to come. Any other
        // is registered before reading, so that a frame between the read and the wait is not lost.
        Waiter? waiter = null;
        bool watched;
        StoreRecord? kept;
        lock (_gate)
        {
            // The record is taken under the lock: a kept frame lets it go when dropped.
            watched = _watched.TryGetValue(id, out var keeping);
            kept = keeping?.Record;
            if (kept is null)
            {
                waiter = Register(id);
            }
        }

        if (kept is not null)
        {
            // Watched ids are the store's own: they split.
            _ = TaskIds.TryQueueOf(id, out var queue);
            return await InfoAsync(id, queue!, kept.Value).ConfigureAwait(false);
        }

        var registered = waiter!;
        try
        {
            if (!watched)
            {
                var info = await GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new TaskNotFoundException(id, lost: false);
                if (info.State.IsFinal())
                {
                    return info;
                }
            }

            if (timeout == Timeout.InfiniteTimeSpan)
            {
                return await registered.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await registered.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Task {id} did not reach a final state within {timeout}.");
            }
        }
        finally
        {
            Unregister(id, registered);
        }
    }

    private Waiter Register(string id)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(id, out var waiter))
            {
                waiter = new Waiter { NextSweep = _sweeps + 1 };
                _waiters.Add(id, waiter);
            }

            waiter.Count++;
            StartSweepLocked();
            return waiter;
        }
    }

    /// <summary>Starts the sweep timer unless it runs: it runs while a waiter waits or a frame is kept.</summary>
    private void StartSweepLocked()
        => _sweep ??= _time.CreateTimer(_ => _ = SweepAsync(), null, _options.ResultPollInterval, _options.ResultPollInterval);

    private void Unregister(string id, Waiter waiter)
    {
        lock (_gate)
        {
            if (--waiter.Count == 0)
            {
                _waiters.Remove(id);
            }
        }
    }

    /// <summary>
    /// A done message: frames of the id's length (2 bytes), the id, the record's length (4 bytes),
    /// the record (empty: the task was withdrawn, sent back to run or deleted); or a probe (<see cref="ProbeLength"/> bytes, shorter than any frame).
    /// </summary>
    private void OnDone(RedisValue message)
    {
        ReadOnlyMemory<byte> rest = message;
        if (rest.Length == ProbeLength && rest.Span[0] == ProbeMark)
        {
            OnProbe(rest.Span);
            return;
        }

        Span<char> chars = stackalloc char[256];
        var messageLength = rest.Length;
        while (rest.Length >= 6)
        {
            var span = rest.Span;
            int idLength = BinaryPrimitives.ReadUInt16BigEndian(span);
            if (rest.Length < 6 + idLength)
            {
                break; // not a frame; the sweep covers whatever it was
            }

            var recordLength = BinaryPrimitives.ReadInt32BigEndian(span[(2 + idLength)..]);
            if (recordLength < 0 || rest.Length - 6 - idLength < recordLength)
            {
                break;
            }

            var idBytes = span.Slice(2, idLength);
            var record = rest.Slice(6 + idLength, recordLength);
            var alone = 6 + idLength + recordLength == messageLength;
            rest = rest[(6 + idLength + recordLength)..];
            string? id = null;
            string? watched;
            Waiter? waiter = null;
            try
            {
                if (Utf8.GetCharCount(idBytes) <= chars.Length)
                {
                    var idChars = chars[..Utf8.GetChars(idBytes, chars)];
                    lock (_gate)
                    {
                        watched = HeardLocked(idChars);
                        _waitersBySpan.TryGetValue(idChars, out id, out waiter);
                    }
                }
                else
                {
                    id = Utf8.GetString(idBytes);
                    lock (_gate)
                    {
                        watched = HeardLocked(id);
                        _waiters.TryGetValue(id, out waiter);
                    }
                }

                if (recordLength == 0)
                {
                    // Withdrawn: the task was sent back to run or deleted. A frame kept for it is
                    // stale, so a wait on it reads again; a waiter reads it now, and ends if it is
                    // gone (or, in a race, final again), else waits for its new run's frame.
                    if (watched is not null)
                    {
                        Unwatch([watched]);
                    }

                    if (waiter is not null)
                    {
                        _ = SettleAsync(id!, waiter, GetAsync(id!).AsTask());
                    }

                    continue;
                }

                id ??= watched;
                if ((waiter is not null || watched is not null) && TaskIds.TryQueueOf(id!, out var queue))
                {
                    // A message of this one frame is a new array: the record keeps it. One of several
                    // frames is copied, so that a kept record or a caller's result does not hold the
                    // others' bytes (other tasks' results) beyond the kept frames' bound.
                    var final = StoreRecord.Read(id!, alone ? record : record.ToArray());
                    if (watched is not null)
                    {
                        BeforeKeep?.Invoke(watched);
                        waiter = Keep(watched, final, recordLength) ?? waiter;
                    }

                    if (waiter is null)
                    {
                        continue;
                    }

                    if (final.Worker is { } worker && IsWorkerNumber(worker) && !_workerNames.ContainsKey(worker))
                    {
                        _ = WakeAsync(waiter, id!, queue, final);
                    }
                    else
                    {
                        waiter.TrySetResult(final.ToInfo(id!, queue, WorkerName(final.Worker)));
                    }
                }
            }
            catch (Exception ex) when (ex is DecoderFallbackException or InvalidDataException)
            {
                // Not ours; the sweep reads the task if someone waits for it.
            }
        }
    }

    /// <summary>Wakes a waiter once the worker of its final record is looked up (the first frame from that worker).</summary>
    private async Task WakeAsync(Waiter waiter, string id, string queue, StoreRecord final)
    {
        try
        {
            await LearnWorkersAsync([final.Worker]).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Transport.TransportException or ObjectDisposedException)
        {
            // Redis is away: the sweep reads the task again.
            return;
        }

        waiter.TrySetResult(final.ToInfo(id, queue, WorkerName(final.Worker)));
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        ForgetRecoveryLooks();
        Probe(force: true);
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _ = SweepAsync(all: true);
            WakeAllFetchers();
            SchedulesChanged();
        }
    }

    /// <summary>Reads again the tasks of the waiters that are due, and wakes those that ended or are gone.</summary>
    private async Task SweepAsync(bool all = false)
    {
        List<(string Id, Waiter Waiter)> due = [];
        lock (_gate)
        {
            var sweep = ++_sweeps;
            ExpireKeptLocked();
            if (_waiters.Count == 0 && _keptOrder.Count == 0)
            {
                _sweep?.Dispose();
                _sweep = null;
                return;
            }

            foreach (var (id, waiter) in _waiters)
            {
                if (all || waiter.NextSweep <= sweep)
                {
                    waiter.Gap = Math.Min(waiter.Gap * 2, MaxSweepGap);
                    waiter.NextSweep = sweep + waiter.Gap;
                    due.Add((id, waiter));
                }
            }
        }

        var reads = new List<Task<TaskInfo?>>(due.Count);
        foreach (var (id, _) in due)
        {
            reads.Add(GetAsync(id).AsTask());
        }

        for (var i = 0; i < due.Count; i++)
        {
            await SettleAsync(due[i].Id, due[i].Waiter, reads[i]).ConfigureAwait(false);
        }
    }

    /// <summary>Ends a waiter by a read of its task: gone, or final; a task still on its way leaves it waiting.</summary>
    private static async Task SettleAsync(string id, Waiter waiter, Task<TaskInfo?> read)
    {
        try
        {
            var info = await read.ConfigureAwait(false);
            if (info is null)
            {
                waiter.TrySetException(new TaskNotFoundException(id, lost: false));
            }
            else if (info.State.IsFinal())
            {
                waiter.TrySetResult(info);
            }
        }
        catch (Exception ex) when (ex is TaskNotFoundException or InvalidDataException)
        {
            waiter.TrySetException(ex);
        }
        catch (Exception ex) when (ex is Transport.TransportException or ObjectDisposedException)
        {
            // Redis is away (the next sweep tries again), or the store is closing.
        }
    }

    /// <summary>
    /// The callers waiting for one task: the final state, once known. Each caller continues on a
    /// thread-pool item of its own, never on the thread that completes it (a done message's
    /// handler, a sweep, a lookup): callers of one task must not run one after the other, nor
    /// a caller that blocks hold up the rest.
    /// </summary>
    private sealed class Waiter : TaskCompletionSource<TaskInfo>
    {
        public Waiter()
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
        }

        public int Count { get; set; }

        /// <summary>The sweep that reads this task next, and the gap to the one after.</summary>
        public long NextSweep { get; set; }

        public long Gap { get; set; } = 1;
    }
}

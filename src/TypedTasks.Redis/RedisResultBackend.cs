using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Serialization;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// Task states in Redis: one string key per task holding the encoded record, with the result TTL.
/// A final state is written and published on the done channel in one script; each client holds
/// one subscription to that channel and wakes its own waiters. A waiter also reads the state again
/// every <see cref="RedisTransportOptions.ResultPollInterval"/>, in case a notification was lost.
/// </summary>
public sealed class RedisResultBackend : IResultBackend
{
    private readonly IConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly RedisKeys _keys;
    private readonly RedisTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly long _ttlMs;
    private readonly object _gate = new();
    private readonly Dictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);
    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly LazySubscription _done;

    internal RedisResultBackend(IConnectionMultiplexer connection, RedisKeys keys, RedisTransportOptions options, TimeSpan resultTtl, TimeProvider time)
    {
        _connection = connection;
        _db = connection.GetDatabase();
        _keys = keys;
        _options = options;
        _time = time;
        _ttlMs = (long)resultTtl.TotalMilliseconds;
        _done = new LazySubscription(connection, keys.Done, (_, message) => Notify((byte[])message!));
    }

    /// <inheritdoc/>
    public ValueTask SetAsync(TaskInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        var record = TaskInfoCodec.Write(info);
        var key = _keys.Result(info.Id);
        return new ValueTask(Transient.Run(RedisScript.SetState.RunAsync(_db, [key], [record, _ttlMs, _keys.Done.ToString(), info.Id, info.State.IsFinal() ? 1 : 0])));
    }

    /// <inheritdoc/>
    public async ValueTask<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        var current = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (current?.State.IsFinal() == true)
        {
            return false;
        }

        var canceled = new TaskInfo(id, current?.TaskName ?? string.Empty, TaskState.Canceled, current?.Attempt ?? 0, _time.GetUtcNow(), null, default);
        var done = await Transient.Run(RedisScript.Cancel.RunAsync(
            _db, [_keys.Result(id)], [TaskInfoCodec.Write(canceled), _ttlMs, _keys.Done.ToString(), _keys.Cancel.ToString(), id])).ConfigureAwait(false);
        return (long)done == 1;
    }

    /// <inheritdoc/>
    public async ValueTask<IAsyncDisposable> WatchCancellationsAsync(Action<string> onCanceled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onCanceled);
        var subscriber = _connection.GetSubscriber();
        Action<RedisChannel, RedisValue> handler = (_, message) => onCanceled(message.ToString());
        await Transient.Run(subscriber.SubscribeAsync(_keys.Cancel, handler)).ConfigureAwait(false);
        return new Unsubscribe(subscriber, _keys.Cancel, handler);
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo?> TryStartAsync(TaskInfo started, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(started);
        var result = await Transient.Run(RedisScript.TryStart.RunAsync(_db, [_keys.Result(started.Id)], [TaskInfoCodec.Write(started), _ttlMs])).ConfigureAwait(false);
        return result.IsNull ? null : TaskInfoCodec.Read(started.Id, (byte[])result!);
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var stored = await Transient.Run(_db.StringGetAsync(_keys.Result(id))).ConfigureAwait(false);
        return stored.IsNull ? null : TaskInfoCodec.Read(id, (byte[])stored!);
    }

    /// <inheritdoc/>
    public async ValueTask<TaskInfo> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await _done.EnsureAsync().ConfigureAwait(false);
        var waiter = Register(id);
        try
        {
            var started = _time.GetTimestamp();
            while (true)
            {
                // Registered before reading, so a notification between the read and the wait is not lost.
                var signal = waiter.Signal.Task;
                if (waiter.Final is { } notified)
                {
                    return notified;
                }

                if (await GetAsync(id, cancellationToken).ConfigureAwait(false) is { } info && info.State.IsFinal())
                {
                    return info;
                }

                var left = timeout == Timeout.InfiniteTimeSpan ? _options.ResultPollInterval : timeout - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"Task {id} did not reach a final state within {timeout}.");
                }

                try
                {
                    await signal.WaitAsync(left < _options.ResultPollInterval ? left : _options.ResultPollInterval, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Poll once more: the fallback for a lost notification, or the final check.
                }

                if (waiter.Final is { } final)
                {
                    return final;
                }

                waiter.Reset();
            }
        }
        finally
        {
            Unregister(id, waiter);
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _done.DisposeAsync();

    /// <summary>A done message: the task id, a zero byte, then its final record.</summary>
    private void Notify(byte[] message)
    {
        var split = Array.IndexOf(message, (byte)0);
        if (split <= 0)
        {
            return; // not ours; the waiter's poll covers it
        }

        var id = Utf8.GetString(message, 0, split);
        Waiter? waiter;
        lock (_gate)
        {
            _waiters.TryGetValue(id, out waiter);
        }

        if (waiter is not null)
        {
            waiter.Final = TaskInfoCodec.Read(id, message.AsMemory(split + 1));
            waiter.Signal.TrySetResult();
        }
    }

    private Waiter Register(string id)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(id, out var waiter))
            {
                waiter = new Waiter();
                _waiters.Add(id, waiter);
            }

            waiter.Count++;
            return waiter;
        }
    }

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

    private sealed class Unsubscribe(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await subscriber.UnsubscribeAsync(channel, handler).ConfigureAwait(false);
            }
            catch (Exception ex) when (Transient.IsTransient(ex) || ex is ObjectDisposedException)
            {
                // The connection is gone; so is the subscription.
            }
        }
    }

    private sealed class Waiter
    {
        private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count { get; set; }

        /// <summary>The final state, when a notification carried it.</summary>
        public TaskInfo? Final { get; set; }

        public TaskCompletionSource Signal => Volatile.Read(ref _signal);

        public void Reset()
        {
            var current = Volatile.Read(ref _signal);
            if (current.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
            }
        }
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// What a worker's Redis loops (heartbeat, recoverer, scheduler, sweeper) say while Redis cannot
/// be reached, and how long they wait: the first failure says where and what to check, each later
/// one is a short line, the recovery is one line. Each loop backs off from its interval, doubling
/// up to a bound (<see cref="MaxBackoff"/> at most: Redis can come back without the client noticing
/// a reconnect, after a pause), and all wake at once when the client reconnects. Whether a failure
/// opens an outage and its line are decided and written in one locked step, so no "still" line
/// comes before the one that says what to check; a command sent before the last reconnect that
/// fails afterwards (on the old socket) belongs to the outage that ended and is not told again.
/// </summary>
internal sealed class RedisOutage : IDisposable
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly IConnectionMultiplexer _connection;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _target;
    private readonly object _gate = new();
    private TaskCompletionSource _restored = NewRestored();
    private DateTimeOffset? _downSince;
    private DateTimeOffset _restoredAt = DateTimeOffset.MinValue;

    public RedisOutage(IConnectionMultiplexer connection, ILogger logger, TimeProvider time)
    {
        _connection = connection;
        _logger = logger;
        _time = time;
        _target = Transient.Describe(connection.GetEndPoints(configuredOnly: true));
        connection.ConnectionRestored += OnRestored;
    }

    /// <summary>The wait before a loop's next try after <paramref name="failures"/> failures in a row, at most <paramref name="max"/> (or the interval, if longer).</summary>
    public static TimeSpan Backoff(TimeSpan interval, int failures, TimeSpan max)
    {
        max = interval > max ? interval : max;
        var wait = interval * Math.Pow(2, Math.Min(failures - 1, 16));
        return wait < max ? wait : max;
    }

    /// <summary>
    /// A round of <paramref name="loop"/> that began at <paramref name="startedAt"/> failed: the
    /// first failure of an outage says where and what to check, later ones are short lines. A
    /// round begun before the last reconnect says nothing: its command went out on the old socket.
    /// </summary>
    public void Failed(string loop, TransportException error, TimeSpan retryIn, DateTimeOffset startedAt)
    {
        var reason = Transient.Reason(error);
        lock (_gate)
        {
            if (_downSince is null && startedAt < _restoredAt)
            {
                return;
            }

            if (_downSince is null)
            {
                _downSince = _time.GetUtcNow();
                var advice = error.InnerException is { } cause && Transient.IsOutOfMemory(cause) ? Transient.MemoryAdvice : Transient.Advice;
                RedisLog.Unreachable(_logger, _target, reason, loop, retryIn, advice);
            }
            else
            {
                RedisLog.StillUnreachable(_logger, _target, reason, loop, retryIn);
            }
        }
    }

    /// <summary>A call went through, or the client reconnected: logs the recovery once and wakes the waiting loops.</summary>
    public void Reachable()
    {
        TaskCompletionSource restored;
        lock (_gate)
        {
            if (_downSince is not { } since)
            {
                return;
            }

            var now = _time.GetUtcNow();
            _downSince = null;
            _restoredAt = now;
            RedisLog.ReachableAgain(_logger, _target, now - since);
            restored = _restored;
            _restored = NewRestored();
        }

        restored.TrySetResult();
    }

    /// <summary>Waits <paramref name="delay"/>, or less when Redis comes back meanwhile (or came back since the failure).</summary>
    public async Task DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        Task restored;
        lock (_gate)
        {
            if (_downSince is null)
            {
                return;
            }

            restored = _restored.Task;
        }

        await Task.WhenAny(Task.Delay(delay, _time, stop), restored).ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
    }

    /// <summary>Stops listening to a connection that the application may keep using.</summary>
    public void Dispose() => _connection.ConnectionRestored -= OnRestored;

    private void OnRestored(object? sender, ConnectionFailedEventArgs e) => Reachable();

    private static TaskCompletionSource NewRestored() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Logging;
using TypedTasks.Transport;

namespace TypedTasks.Worker;

/// <summary>
/// One account of the store being unreachable, for all of a worker's parts (fetcher, heartbeat,
/// recovery, promotion, cancellation watch, settles): an outage is one warning that says what
/// to check, whichever part meets it first, and one line when the store is back; the parts'
/// further failures meanwhile are Debug. A failure of a call that started before the store came
/// back does not open a new outage. Only a part that failed in the outage closes it by succeeding:
/// a round that did not need the store (metrics with nothing to send, a promotion with nothing to
/// look at) succeeds without reaching it, and would say the store is back while it is not.
/// </summary>
internal sealed class StoreOutage(ILogger logger, TimeProvider time)
{
    private readonly object _gate = new();
    private DateTimeOffset? _downSince;
    private DateTimeOffset _backAt = DateTimeOffset.MinValue;
    private int _failures;
    private readonly HashSet<string> _failedParts = new(StringComparer.Ordinal);

    /// <summary>Whether an outage is open.</summary>
    public bool IsDown
    {
        get
        {
            lock (_gate)
            {
                return _downSince is not null;
            }
        }
    }

    /// <summary>Reports a failed call of <paramref name="part"/>, made at <paramref name="startedAt"/>, retried in <paramref name="retryIn"/>.</summary>
    public void Failed(string part, TransportException error, TimeSpan retryIn, DateTimeOffset startedAt)
    {
        lock (_gate)
        {
            if (_downSince is null && startedAt < _backAt)
            {
                return;
            }

            _failures++;
            _failedParts.Add(part);
            if (_downSince is null)
            {
                _downSince = time.GetUtcNow();
                Log.StoreUnreachable(logger, error.Message, part, retryIn);
            }
            else
            {
                Log.StoreStillUnreachable(logger, part, _failures, retryIn);
            }
        }
    }

    /// <summary>Reports a round of <paramref name="part"/> that succeeded: closes an open outage in which that part failed.</summary>
    public void Reached(string part)
    {
        if (Volatile.Read(ref _failures) == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_downSince is not { } since || !_failedParts.Contains(part))
            {
                return;
            }

            var now = time.GetUtcNow();
            Log.StoreReachableAgain(logger, now - since, _failures);
            _downSince = null;
            _backAt = now;
            _failures = 0;
            _failedParts.Clear();
        }
    }
}

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;

namespace TypedTasks.Celery.Worker;

/// <summary>
/// The ids revoked by broadcast, kept as Celery workers keep theirs (three hours, at most 50,000),
/// and the cancellation of those running here, for a revoke with terminate.
/// </summary>
internal sealed class RevokedTasks
{
    private const int Max = 50_000;
    private static readonly TimeSpan Keep = TimeSpan.FromHours(3);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    public void Revoke(string id, bool terminate)
    {
        var now = DateTimeOffset.UtcNow;
        _revoked[id] = now;
        if (_revoked.Count > Max)
        {
            foreach (var old in _revoked.Where(p => now - p.Value > Keep).Select(p => p.Key).ToList())
            {
                _revoked.TryRemove(old, out _);
            }
        }

        if (terminate && _running.TryGetValue(id, out var run))
        {
            try
            {
                run.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run ended as the revoke came.
            }
        }
    }

    public bool IsRevoked(string id) => _revoked.ContainsKey(id);

    public void Started(string id, CancellationTokenSource run) => _running[id] = run;

    public void Ended(string id) => _running.TryRemove(id, out _);
}

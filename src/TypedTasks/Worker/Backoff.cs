using System;

namespace TypedTasks.Worker;

/// <summary>
/// The wait between attempts at something that failed because the transport was unreachable:
/// <see cref="Next"/> gives the first delay, then double the last, never more than the maximum.
/// </summary>
internal struct Backoff(TimeSpan first, TimeSpan max)
{
    private TimeSpan _last;

    public TimeSpan Next()
    {
        _last = _last == TimeSpan.Zero ? first : TimeSpan.FromTicks(Math.Min(_last.Ticks * 2, max.Ticks));
        return _last;
    }

    public void Reset() => _last = TimeSpan.Zero;
}

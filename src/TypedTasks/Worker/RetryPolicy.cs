using System;

namespace TypedTasks.Worker;

/// <summary>
/// Exponential backoff with jitter: the n-th retry (from 0) waits
/// <c>min(RetryDelay × 2ⁿ, 1 hour) × r</c> with r uniform in [0.5, 1], so that tasks failing
/// together do not come back together.
/// </summary>
internal static class RetryPolicy
{
    public static TimeSpan Delay(TimeSpan firstDelay, int retry, double random)
    {
        var exponent = Math.Min(retry, 30);
        var ticks = Math.Min(firstDelay.Ticks * Math.Pow(2, exponent), TaskDefaults.MaxRetryDelay.Ticks);
        return TimeSpan.FromTicks((long)(ticks * (0.5 + (0.5 * random))));
    }
}

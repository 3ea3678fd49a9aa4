using System;
using System.Collections.Generic;

namespace TypedTasks.Metrics;

/// <summary>
/// How long runs took, counted in fixed buckets (1 ms to 60 s, roughly 1-2-5 steps, and one
/// bucket for longer runs): small enough to keep per task and minute, and summable across
/// workers and minutes, so that percentiles come from the sum.
/// </summary>
public sealed class LatencyHistogram
{
    private static readonly TimeSpan[] UpperBounds =
    [
        TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10),
        TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200),
        TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5),
        TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.MaxValue,
    ];

    private readonly long[] _counts;

    /// <summary>An empty histogram.</summary>
    public LatencyHistogram()
        => _counts = new long[UpperBounds.Length];

    /// <summary>A histogram of these counts, one per bucket of <see cref="Bounds"/>.</summary>
    public LatencyHistogram(IReadOnlyList<long> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count != UpperBounds.Length)
        {
            throw new ArgumentException($"A latency histogram has {UpperBounds.Length} buckets; {counts.Count} counts were given.", nameof(counts));
        }

        _counts = new long[UpperBounds.Length];
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] = counts[i] >= 0 ? counts[i] : throw new ArgumentOutOfRangeException(nameof(counts), counts[i], "A bucket's count cannot be negative.");
        }
    }

    /// <summary>The upper bound of each bucket (inclusive); the last is <see cref="TimeSpan.MaxValue"/>.</summary>
    public static IReadOnlyList<TimeSpan> Bounds => UpperBounds;

    /// <summary>The count of each bucket.</summary>
    public IReadOnlyList<long> Counts => _counts;

    /// <summary>All runs counted.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            foreach (var count in _counts)
            {
                total += count;
            }

            return total;
        }
    }

    /// <summary>The bucket a run of <paramref name="duration"/> is counted in.</summary>
    public static int BucketOf(TimeSpan duration)
    {
        for (var i = 0; i < UpperBounds.Length - 1; i++)
        {
            if (duration <= UpperBounds[i])
            {
                return i;
            }
        }

        return UpperBounds.Length - 1;
    }

    /// <summary>
    /// The upper bound of the bucket that holds the <paramref name="percentile"/>th run (0 to 100):
    /// "95 % of runs took at most this". Null when nothing was counted; for the last bucket, the
    /// previous bound (the longest that is known).
    /// </summary>
    public TimeSpan? Percentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        var total = Total;
        if (total == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * total));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return i == UpperBounds.Length - 1 ? UpperBounds[i - 1] : UpperBounds[i];
            }
        }

        return UpperBounds[^2];
    }

    /// <summary>One histogram of all the runs of <paramref name="histograms"/>: several workers', tasks' or intervals' together.</summary>
    public static LatencyHistogram Sum(IEnumerable<LatencyHistogram> histograms)
    {
        ArgumentNullException.ThrowIfNull(histograms);
        var sum = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            sum.Add(histogram);
        }

        return sum;
    }

    /// <summary>Counts one run.</summary>
    internal void Add(TimeSpan duration) => _counts[BucketOf(duration)]++;

    /// <summary>Adds another histogram's counts to this one's.</summary>
    internal void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    internal void AddToBucket(int bucket, long count) => _counts[bucket] += count;
}

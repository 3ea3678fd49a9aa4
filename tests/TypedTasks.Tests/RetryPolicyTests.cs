using System;
using System.Linq;
using TypedTasks.Worker;

namespace TypedTasks.Tests;

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData(0, 1_000, 2_000)]
    [InlineData(1, 2_000, 4_000)]
    [InlineData(3, 8_000, 16_000)]
    public void The_nth_retry_waits_between_half_and_all_of_the_doubled_delay(int retry, int minMs, int maxMs)
    {
        var first = TimeSpan.FromSeconds(2);
        Assert.Equal(TimeSpan.FromMilliseconds(minMs), RetryPolicy.Delay(first, retry, 0.0));
        Assert.Equal(TimeSpan.FromMilliseconds(maxMs), RetryPolicy.Delay(first, retry, 1.0));
    }

    [Fact]
    public void The_delay_stops_growing_at_one_hour()
    {
        Assert.Equal(TaskDefaults.MaxRetryDelay, RetryPolicy.Delay(TimeSpan.FromSeconds(2), 1_000, 1.0));
    }
}

public sealed class BackoffTests
{
    [Fact]
    public void Delays_start_at_the_first_double_up_to_the_maximum_and_start_over_after_a_reset()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500));
        Assert.Equal(new[] { 100, 200, 400, 500, 500 }, Enumerable.Range(0, 5).Select(_ => (int)backoff.Next().TotalMilliseconds));
        backoff.Reset();
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Next());
    }
}

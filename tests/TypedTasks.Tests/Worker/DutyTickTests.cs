using System;
using TypedTasks.Worker;

namespace TypedTasks.Tests.Worker;

/// <summary>The one-second grid an idle worker's periodic duties share.</summary>
public sealed class DutyTickTests
{
    [Fact]
    public void Sleeps_of_one_three_six_and_ten_seconds_from_any_instant_end_on_one_shared_tick_no_later_than_asked()
    {
        // Input: a heartbeat's 3 s, a recovery's 6 s, a promotion's 1 s and the metrics' 10 s,
        // each asked at 200 instants spread over 2 s. Expected: each sleep ends no later than
        // asked, at most a second earlier (past the near miss below), and all end on the same
        // grid: their ends differ by whole seconds.
        var start = DateTimeOffset.UnixEpoch.AddDays(20_000);
        long? grid = null;
        foreach (var seconds in new[] { 1, 3, 6, 10 })
        {
            var wait = TimeSpan.FromSeconds(seconds);
            for (var i = 0; i < 200; i++)
            {
                var now = start.AddMilliseconds(i * 10.37);
                var sleep = DutyTick.Align(now, wait);
                var end = now + sleep;
                Assert.True(sleep <= wait || sleep - wait <= TimeSpan.FromMilliseconds(51), $"A sleep of {wait} asked at {now:HH:mm:ss.fff} became {sleep}.");
                Assert.True(sleep > wait - DutyTick.Step, $"A sleep of {wait} asked at {now:HH:mm:ss.fff} became {sleep}, over a step shorter.");
                var phase = (end.UtcTicks % TimeSpan.TicksPerSecond + TimeSpan.TicksPerSecond) % TimeSpan.TicksPerSecond;
                grid ??= phase;
                // Whole milliseconds: within one of the grid's phase.
                var off = Math.Abs(phase - grid.Value);
                Assert.True(Math.Min(off, TimeSpan.TicksPerSecond - off) <= TimeSpan.TicksPerMillisecond, $"A sleep of {wait} asked at {now:HH:mm:ss.fff} ends at {end:HH:mm:ss.ffff}, off the grid by {off} ticks.");
            }
        }
    }

    [Fact]
    public void A_sleep_shorter_than_a_step_is_kept_and_a_wake_just_before_its_tick_sleeps_to_the_next()
    {
        // Input: 999 ms, then 1 s asked a millisecond before a tick (a timer that ended early).
        // Expected: 999 ms as asked; the 1 s sleep ends on the tick after (about 1.001 s), not
        // a millisecond later on the tick it nearly reached, which would be a wake-up for nothing.
        var now = DateTimeOffset.UnixEpoch.AddDays(20_000);
        Assert.Equal(TimeSpan.FromMilliseconds(999), DutyTick.Align(now, TimeSpan.FromMilliseconds(999)));
        var tick = now + DutyTick.Align(now, TimeSpan.FromSeconds(1));
        var early = tick - TimeSpan.FromMilliseconds(1);
        var sleep = DutyTick.Align(early, TimeSpan.FromSeconds(1));
        Assert.InRange(sleep, TimeSpan.FromMilliseconds(1000), TimeSpan.FromMilliseconds(1002));
    }
}

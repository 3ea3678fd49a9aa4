using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.Testing;
using TypedTasks.Transport;
using TypedTasks.Worker;

namespace TypedTasks.Tests;

/// <summary>
/// What a worker says about a store outage, whichever of its parts meet it: one warning with what
/// to check, Debug lines while it lasts, one line when the store is back; a call that started before
/// the store came back does not open a second outage.
/// </summary>
public sealed class StoreOutageTests
{
    private static readonly TransportException Unreachable = new("Redis at 127.0.0.1:1 could not be reached (SocketClosed): check that redis-server is running there.");

    [Fact]
    public void Many_parts_failing_at_once_make_one_warning_and_one_line_when_the_store_is_back()
    {
        var logs = new CapturedLogs();
        var outage = new StoreOutage(logs.CreateLogger("worker"), TimeProvider.System);
        var started = TimeProvider.System.GetUtcNow();

        Parallel.For(0, 50, i => outage.Failed(i % 2 == 0 ? "heartbeat" : "fetching", Unreachable, TimeSpan.FromSeconds(1), started));
        Assert.True(outage.IsDown);
        var warning = Assert.Single(logs.Warnings);
        Assert.StartsWith("The task store cannot be reached: Redis at 127.0.0.1:1 could not be reached (SocketClosed): check that redis-server is running there.", warning, StringComparison.Ordinal);
        Assert.Equal(49, logs.Lines.Count(l => l.Level == LogLevel.Debug && l.Message.Contains("still cannot be reached", StringComparison.Ordinal)));

        outage.Reached("heartbeat");
        outage.Reached("fetching");
        Assert.False(outage.IsDown);
        var back = Assert.Single(logs.All, m => m.Contains("reachable again", StringComparison.Ordinal));
        Assert.Contains("50 failed calls", back, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_under_way_before_the_store_came_back_does_not_open_a_second_outage_and_a_later_one_does()
    {
        var logs = new CapturedLogs();
        var outage = new StoreOutage(logs.CreateLogger("worker"), TimeProvider.System);
        var before = TimeProvider.System.GetUtcNow();
        outage.Failed("heartbeat", Unreachable, TimeSpan.FromSeconds(1), before);
        await Task.Delay(20);
        outage.Reached("heartbeat");

        // Sent before the store came back: its failure is the old outage's tail.
        outage.Failed("settling a task", Unreachable, TimeSpan.FromSeconds(1), before);
        Assert.False(outage.IsDown);
        Assert.Single(logs.Warnings);

        // Sent after: a new outage, told in full.
        await Task.Delay(20);
        outage.Failed("fetching", Unreachable, TimeSpan.FromSeconds(1), TimeProvider.System.GetUtcNow());
        Assert.Equal(2, logs.Warnings.Count);
        Assert.Contains("(fetching again in", logs.Warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_store_that_never_failed_says_nothing()
    {
        var logs = new CapturedLogs();
        var outage = new StoreOutage(logs.CreateLogger("worker"), TimeProvider.System);
        outage.Reached("heartbeat");
        Assert.Empty(logs.All);
    }

    [Fact]
    public void A_round_of_a_part_that_did_not_fail_in_the_outage_does_not_close_it()
    {
        // Input: the fetcher and the heartbeat fail; then the metrics duty, with nothing to send,
        // and the promotion, with nothing to look at, end their rounds without reaching the store.
        // Error expected: none; the outage stays open (no "reachable again" followed by a new
        // warning at the next failure, every few seconds), until a part that failed succeeds.
        var logs = new CapturedLogs();
        var outage = new StoreOutage(logs.CreateLogger("worker"), TimeProvider.System);
        var started = TimeProvider.System.GetUtcNow();
        outage.Failed("fetching", Unreachable, TimeSpan.FromSeconds(1), started);
        outage.Failed("heartbeat", Unreachable, TimeSpan.FromSeconds(1), started);

        outage.Reached("metrics");
        outage.Reached("promotion of due tasks");
        Assert.True(outage.IsDown);
        Assert.DoesNotContain(logs.All, m => m.Contains("reachable again", StringComparison.Ordinal));
        outage.Failed("fetching", Unreachable, TimeSpan.FromSeconds(1), TimeProvider.System.GetUtcNow());
        Assert.Single(logs.Warnings);

        outage.Reached("heartbeat");
        Assert.False(outage.IsDown);
        Assert.Single(logs.All, m => m.Contains("reachable again", StringComparison.Ordinal));
    }
}

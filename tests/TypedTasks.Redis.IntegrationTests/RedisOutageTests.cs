using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Testing;
using TypedTasks.Transport;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// What the worker's loops say about an outage, driven by hand: the line that says what to check
/// comes first whatever the loops do at once, and a command that was already under way when the
/// client reconnected does not open a second outage.
/// </summary>
public sealed class RedisOutageTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TransportException SocketClosed = new("Redis cannot be reached.", new RedisConnectionException(ConnectionFailureType.SocketClosed, CommandFlags.None, "closed", null, CommandStatus.Unknown));

    [Fact]
    public async Task The_line_that_says_what_to_check_comes_before_any_still_unreachable_line()
    {
        await using var connection = await redis.Server.ConnectAsync();
        var logs = new CapturedLogs();
        var firstLineWritten = new ManualResetEventSlim();
        var slow = new SlowFirstLine(logs.CreateLogger("outage"), firstLineWritten);
        using var outage = new RedisOutage(connection, slow, TimeProvider.System);
        var started = TimeProvider.System.GetUtcNow();

        // The first loop is held up while it writes its line; the second fails meanwhile.
        var first = Task.Run(() => outage.Failed("heartbeat", SocketClosed, TimeSpan.FromSeconds(1), started));
        Assert.True(slow.Entered.Wait(TimeSpan.FromSeconds(10)), "the first line is being written");
        var second = Task.Run(() => outage.Failed("scheduler", SocketClosed, TimeSpan.FromSeconds(1), started));
        await Task.Delay(200);
        firstLineWritten.Set();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, logs.Warnings.Count);
        Assert.StartsWith($"Redis at {redis.Server.Endpoint} cannot be reached (SocketClosed); the heartbeat tries again", logs.Warnings[0], StringComparison.Ordinal);
        Assert.StartsWith($"Redis at {redis.Server.Endpoint} still cannot be reached (SocketClosed); the scheduler", logs.Warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_under_way_before_the_reconnect_does_not_open_a_second_outage_and_a_later_one_does()
    {
        await using var connection = await redis.Server.ConnectAsync();
        var logs = new CapturedLogs();
        using var outage = new RedisOutage(connection, logs.CreateLogger("outage"), TimeProvider.System);
        var before = TimeProvider.System.GetUtcNow();
        outage.Failed("heartbeat", SocketClosed, TimeSpan.FromSeconds(1), before);
        outage.Reachable();

        // Sent on the old socket, before the reconnect: its failure is the old outage's tail.
        outage.Failed("in-flight sweep", SocketClosed, TimeSpan.FromSeconds(1), before);
        Assert.Equal(1, logs.Lines.Count(l => l.Message.Contains("cannot be reached", StringComparison.Ordinal)));
        Assert.Single(logs.All, m => m.Contains("is reachable again", StringComparison.Ordinal));

        // Sent after the reconnect: a new outage, told in full.
        await Task.Delay(20);
        outage.Failed("recoverer", SocketClosed, TimeSpan.FromSeconds(1), TimeProvider.System.GetUtcNow());
        Assert.Equal(2, logs.Lines.Count(l => l.Message.Contains(" cannot be reached (SocketClosed); the", StringComparison.Ordinal) && !l.Message.Contains("still", StringComparison.Ordinal)));
    }

    /// <summary>Holds up the writing of the first outage line until told, as a slow log sink would.</summary>
    private sealed class SlowFirstLine(ILogger inner, ManualResetEventSlim release) : ILogger
    {
        public ManualResetEventSlim Entered { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 104)
            {
                Entered.Set();
                release.Wait(TimeSpan.FromSeconds(10));
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

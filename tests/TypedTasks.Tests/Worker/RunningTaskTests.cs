using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.Worker;

namespace TypedTasks.Tests.Worker;

/// <summary>
/// A run's token, made only when something asks for it: a cancel, a hard stop or a time limit
/// that comes before it is made is on it when it is, whatever the order and the thread.
/// </summary>
public sealed class RunningTaskTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_cancel_before_the_token_is_asked_for_is_on_the_token()
    {
        // Input: a run without a limit canceled, then asked for its token.
        using var run = new RunningTask("t", "id", Start, null, TimeProvider.System, CancellationToken.None);
        run.Cancel();

        Assert.True(run.Canceled);
        Assert.True(run.Token.IsCancellationRequested);
        Assert.True(run.Token.CanBeCanceled);
    }

    [Fact]
    public void A_hard_stop_before_or_after_the_token_is_asked_for_is_on_the_token()
    {
        // Input: two runs under one hard stop; one asks for its token before the stop, one after.
        using var hardStop = new CancellationTokenSource();
        using var early = new RunningTask("t", "early", Start, null, TimeProvider.System, hardStop.Token);
        using var late = new RunningTask("t", "late", Start, null, TimeProvider.System, hardStop.Token);
        var before = early.Token;
        Assert.False(before.IsCancellationRequested);

        hardStop.Cancel();

        Assert.True(before.IsCancellationRequested);
        Assert.True(late.Token.IsCancellationRequested);
        Assert.False(late.Canceled); // a stop is not a cancel
    }

    [Fact]
    public void The_limit_cancels_the_token_and_says_the_limit_was_reached()
    {
        // Input: a run with a 10 s limit; the clock moves 9 s, then 1 s more.
        var time = new FakeTimeProvider(Start);
        using var run = new RunningTask("t", "id", Start, TimeSpan.FromSeconds(10), time, CancellationToken.None);
        var token = run.Token;
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(token.IsCancellationRequested);
        Assert.False(run.LimitReached);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(token.IsCancellationRequested);
        Assert.True(run.LimitReached);
        Assert.False(run.Canceled);
    }

    [Fact]
    public void A_token_asked_for_after_the_run_was_released_throws_nothing_and_keeps_a_cancel()
    {
        // Input: runs released (disposed), then asked for their token; one of them was canceled.
        using var hardStop = new CancellationTokenSource();
        var plain = new RunningTask("t", "plain", Start, null, TimeProvider.System, hardStop.Token);
        var canceled = new RunningTask("t", "canceled", Start, null, TimeProvider.System, hardStop.Token);
        var limited = new RunningTask("t", "limited", Start, TimeSpan.FromMinutes(1), TimeProvider.System, hardStop.Token);
        canceled.Cancel();
        plain.Dispose();
        canceled.Dispose();
        limited.Dispose();
        limited.Dispose(); // twice is harmless

        Assert.False(plain.Token.IsCancellationRequested);
        Assert.True(canceled.Token.IsCancellationRequested);
        Assert.False(limited.Token.IsCancellationRequested);
        limited.Cancel(); // after the release: no ObjectDisposedException
        Assert.True(limited.Canceled);

        // The hard stop still reaches a token asked for after the release.
        var late = plain.Token;
        hardStop.Cancel();
        Assert.True(late.IsCancellationRequested);
    }

    [Fact]
    public async Task A_cancel_racing_the_first_ask_for_the_token_is_never_lost()
    {
        // Input: 1,000 runs, each canceled on one thread while another asks for its token, started
        // together. Whichever comes first, the token ends canceled, and every asker gets one
        // token (the same source).
        for (var i = 0; i < 1000; i++)
        {
            using var run = new RunningTask("t", "id", Start, null, TimeProvider.System, CancellationToken.None);
            var token = await TokenWhileAsync(run, run.Cancel);

            Assert.True(token.IsCancellationRequested, $"run {i}: the cancel was lost");
            Assert.Equal(token, run.Token);
        }
    }

    [Fact]
    public async Task A_release_racing_the_first_ask_for_the_token_throws_nothing()
    {
        // Input: 1,000 runs, each released on one thread while another asks for its token.
        for (var i = 0; i < 1000; i++)
        {
            var run = new RunningTask("t", "id", Start, null, TimeProvider.System, CancellationToken.None);
            Assert.False((await TokenWhileAsync(run, run.Dispose)).IsCancellationRequested, $"run {i}");
        }
    }

    /// <summary>The token of <paramref name="run"/>, asked for on one thread while another does <paramref name="other"/>, both let go together.</summary>
    private static async Task<CancellationToken> TokenWhileAsync(RunningTask run, Action other)
    {
        using var go = new Barrier(2);
        var asker = Task.Run(() =>
        {
            go.SignalAndWait();
            return run.Token;
        });
        var racer = Task.Run(() =>
        {
            go.SignalAndWait();
            other();
        });
        await Task.WhenAll(asker, racer).WaitAsync(TimeSpan.FromSeconds(10));
        return await asker;
    }
}

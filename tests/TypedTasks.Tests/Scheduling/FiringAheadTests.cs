using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Metrics;
using TypedTasks.Scheduling;
using TypedTasks.Testing;
using TypedTasks.Testing.StoreConformance;
using TypedTasks.Worker;

namespace TypedTasks.Tests.Scheduling;

/// <summary>
/// Fires made a lead ahead of their fire times, and runs that never start before their fire time:
/// the round's time on a fake clock, and a worker on the in-memory store (with a fake clock, which
/// the hold follows) that holds a run whose <c>ScheduledFor</c> has not come, at most the lead,
/// through a graceful and a hard stop.
/// </summary>
public sealed class FiringAheadTests : IAsyncDisposable
{
    private const string Queue = "firing-ahead";
    private static readonly DateTimeOffset T0 = new(2026, 5, 4, 10, 0, 0, TimeSpan.Zero);

    // Real time for what the worker does of its own, not for the fake clock to reach.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    private readonly FakeTimeProvider _clock = new(T0);
    private readonly InMemoryTaskStore _store;

    public FiringAheadTests()
    {
        _store = new InMemoryTaskStore(timeProvider: _clock);
        FireTimeTasks.Clock = _clock;
    }

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private static TimeSpan Lead => FireTimeHold.Lead;

    [Fact]
    public async Task The_worker_that_fires_on_time_fires_a_lead_before_the_fire_time_and_not_earlier()
    {
        // Input: a schedule of every second, a worker's round a millisecond before the lead, then
        // one at the lead before the fire time. Expected: the first enqueues nothing and asks to
        // sleep that millisecond; the second enqueues the fire time (its run says so in
        // ScheduledFor) and moves the schedule to the next.
        var task = Firers.Task("firing-ahead.run", Queue);
        await new TaskSchedules(_store, _clock).UpsertAsync("s", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(_store, _clock)), "* * * * * *");
        var workers = new Firers(_store, [_clock], [task], Queue);

        _clock.Advance(TimeSpan.FromSeconds(1) - Lead - TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(1), await workers.RoundAsync(0));
        Assert.Empty(await Firers.FiredAsync(_store, Queue));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), await workers.RoundAsync(0));
        Assert.Equal([T0.AddSeconds(1)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
        Assert.Equal(T0.AddSeconds(2), (await _store.GetScheduleAsync("s"))!.NextFireAt);
    }

    [Fact]
    public async Task A_run_fetched_before_its_fire_time_is_held_started_and_runs_at_it()
    {
        // Input: a worker on the fake clock, a run of the note task sent with a fire time 30 ms
        // ahead. Expected: it is fetched (Started) and does not run while the clock stands; once
        // the clock reaches the fire time it runs, and its start is not before it.
        await using var host = await StartAsync();
        var label = Guid.NewGuid().ToString("N");
        var at = T0 + TimeSpan.FromMilliseconds(30);
        var id = await SendAsync(host, label, at);

        await FetchedAsync(id);
        await Task.Delay(Settle);
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The run started before its fire time.");

        _clock.Advance(TimeSpan.FromMilliseconds(29));
        await Task.Delay(Settle);
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The run started a millisecond before its fire time.");

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await Poll.UntilAsync(() => Task.FromResult(FireTimeTasks.Runs.ContainsKey(label)), "the run starts at its fire time", TestHost.Wait);
        var run = FireTimeTasks.Runs[label];
        Assert.True(run.StartedAt >= at, $"The run due at {at:O} started at {run.StartedAt:O}.");
        Assert.Equal(at, run.ScheduledFor);
        await Poll.UntilAsync(async () => (await _store.GetAsync(id))?.State == TaskState.Succeeded, "the run ends", TestHost.Wait);
    }

    [Fact]
    public async Task A_run_canceled_while_held_never_runs()
    {
        // Input: a run held for its fire time 30 ms ahead, canceled while held. Expected: once the
        // clock passes the fire time it does not run, and stays Canceled.
        await using var host = await StartAsync();
        var label = Guid.NewGuid().ToString("N");
        var id = await SendAsync(host, label, T0 + TimeSpan.FromMilliseconds(30));
        await FetchedAsync(id);

        Assert.True(await _store.CancelAsync(id));
        await Task.Delay(Settle);
        _clock.Advance(TimeSpan.FromMilliseconds(30));
        await Task.Delay(Settle);
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The run canceled while held ran at its fire time.");
        Assert.Equal(TaskState.Canceled, (await _store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task A_fire_time_further_ahead_than_the_lead_is_waited_for_the_lead_and_no_longer()
    {
        // Input: a run whose fire time is an hour ahead of the worker's clock (a clock far off
        // from the firing worker's). Expected: held while the clock stands; once the clock has
        // moved the lead, it runs, an hour before its fire time, rather than holding a slot for an hour.
        await using var host = await StartAsync();
        var label = Guid.NewGuid().ToString("N");
        var id = await SendAsync(host, label, T0.AddHours(1));

        await FetchedAsync(id);
        await Task.Delay(Settle);
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The run started before the lead was over.");

        _clock.Advance(Lead);
        await Poll.UntilAsync(() => Task.FromResult(FireTimeTasks.Runs.ContainsKey(label)), "the run starts once the lead is over", TestHost.Wait);
        Assert.Equal(T0 + Lead, FireTimeTasks.Runs[label].StartedAt);
    }

    [Fact]
    public async Task A_held_run_at_a_graceful_stop_is_waited_for_and_starts_at_its_fire_time()
    {
        // Input: a run held for its fire time 40 ms ahead when the worker is asked to stop (a
        // shutdown timeout of a minute). Expected: the stop waits for it as for a running task;
        // the run does not start while the clock stands, starts once it reaches the fire time,
        // and the stop then ends with the run Succeeded.
        var (host, label, at, id, stop) = await StopWhileHeldAsync(TimeSpan.FromMinutes(1));
        Assert.False(stop.IsCompleted, "The stop did not wait for the held run.");

        _clock.Advance(TimeSpan.FromMilliseconds(40));
        await stop.WaitAsync(TestHost.Wait);
        host.Host.Dispose();
        Assert.True(FireTimeTasks.Runs[label].StartedAt >= at, $"The run due at {at:O} started at {FireTimeTasks.Runs[label].StartedAt:O}.");
        Assert.Equal(TaskState.Succeeded, (await _store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task A_held_run_at_a_hard_stop_goes_back_to_its_queue_unstarted()
    {
        // Input: a run held for its fire time 40 ms ahead when the worker is asked to stop, with a
        // shutdown timeout of 10 ms that the clock passes before the fire time. Expected: the stop
        // sends the run back to its queue (Pending) without running it; the next worker fetches
        // it and runs it, not before its fire time.
        var (host, label, at, id, stop) = await StopWhileHeldAsync(TimeSpan.FromMilliseconds(10));
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        await stop.WaitAsync(TestHost.Wait);
        host.Host.Dispose();
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The held run started at the hard stop.");
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(id))!.State);

        await using var next = await StartAsync();
        await FetchedAsync(id);
        await Task.Delay(Settle);
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The next worker started the run before its fire time.");
        _clock.Advance(TimeSpan.FromMilliseconds(30));
        await Poll.UntilAsync(() => Task.FromResult(FireTimeTasks.Runs.ContainsKey(label)), "the next worker runs it at its fire time", TestHost.Wait);
        Assert.True(FireTimeTasks.Runs[label].StartedAt >= at, $"The run due at {at:O} started at {FireTimeTasks.Runs[label].StartedAt:O}.");
    }

    [Fact]
    public async Task On_the_system_clock_a_hold_ends_at_its_fire_time_never_before_and_a_stop_ends_it()
    {
        // Input: holds on the system clock for fire times 20 and 30 ms ahead, one of them twice
        // (two runs of the same second share the waiter), a hold for a past fire time, and one
        // canceled. Expected: the past one completes at once; each other ends at or after its
        // fire time by the clock; the canceled one ends canceled.
        var hold = new FireTimeHold(TimeProvider.System);
        Assert.True(hold.WaitAsync(DateTimeOffset.UtcNow.AddSeconds(-1), CancellationToken.None).IsCompleted);
        Assert.True(hold.WaitAsync(null, CancellationToken.None).IsCompleted);

        var first = DateTimeOffset.UtcNow.AddMilliseconds(20);
        var second = first.AddMilliseconds(10);
        var waits = new[] { first, second, second }.Select(async at =>
        {
            await hold.WaitAsync(at, CancellationToken.None);
            return (At: at, Ended: DateTimeOffset.UtcNow);
        }).ToArray();
        using var cancel = new CancellationTokenSource();
        var canceled = hold.WaitAsync(DateTimeOffset.UtcNow.AddMilliseconds(40), cancel.Token).AsTask();
        CancelNow(cancel);

        foreach (var (at, ended) in await Task.WhenAll(waits).WaitAsync(TestHost.Wait))
        {
            Assert.True(ended >= at, $"A hold for {at:O} ended at {ended:O}.");
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.WaitAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_run_taken_once_the_hard_stop_has_come_goes_back_unstarted_on_the_system_clock()
    {
        // Input: an executor on the system clock, its hard stop already requested, given a run
        // whose fire time is a second ahead (a fetch that raced the stop). Expected: the hold,
        // canceled as it begins, sends the run back to its queue (Pending, the attempt not
        // counted: its next fetch is attempt 1 again) and its code never runs, as when the stop
        // comes during the hold.
        await using var store = new InMemoryTaskStore();
        var ran = 0;
        var task = new TaskDescriptor("firing-ahead.stopped", Queue, 0, null, null, null, _ =>
        {
            Interlocked.Increment(ref ran);
            return ValueTask.FromResult(ReadOnlyMemory<byte>.Empty);
        });
        var client = new TaskClient(store, TimeProvider.System);
        var at = DateTimeOffset.UtcNow.AddSeconds(1);
        var id = await client.SendCallAsync(TaskCall.Bind(task, ScheduleDefinition.NoArguments, client), new EnqueueOptions(), new CallMarks(ScheduledFor: at), CancellationToken.None);
        var lease = Assert.Single(await store.FetchAsync([Queue], 1, CancellationToken.None));
        var outage = new StoreOutage(NullLogger.Instance, TimeProvider.System);
        var executor = new TaskExecutor(
            new Dictionary<string, TaskDescriptor>(StringComparer.Ordinal) { [task.Name] = task },
            store,
            new CancellationRelay(store, new LeaseSet(), outage, TimeProvider.System, NullLogger.Instance),
            outage,
            new ServiceCollection().BuildServiceProvider(),
            TimeProvider.System,
            NullLogger.Instance,
            new MetricsRecorder(TimeProvider.System));

        await executor.RunAsync(lease, new CancellationToken(canceled: true)).AsTask().WaitAsync(TestHost.Wait);

        Assert.True(ran == 0, $"The run due at {at:O} started at the hard stop, at {DateTimeOffset.UtcNow:O}.");
        Assert.Equal(TaskState.Pending, (await store.GetAsync(id))!.State);
        Assert.Equal(1, Assert.Single(await store.FetchAsync([Queue], 1, CancellationToken.None)).Attempt);
    }

    [Fact]
    public async Task A_round_late_by_most_of_a_second_leaves_the_next_fire_time_of_an_overlap_skip_schedule_to_that_time()
    {
        // Input: a schedule of every second with OverlapPolicy.Skip; its worker's round for the
        // fire time T0+1s comes 960 ms late, so that T0+2s is within the lead; the run of T0+1s
        // ends (final) 20 ms later. Expected: the late round enqueues T0+1s and does not decide
        // T0+2s against the run it has just enqueued, which cannot be final yet; T0+2s runs,
        // since the run before it ended before it.
        var task = Firers.Task("firing-ahead.skip", Queue);
        await new TaskSchedules(_store, _clock).UpsertAsync("s", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(_store, _clock)), "* * * * * *", options: new ScheduleOptions { Overlap = OverlapPolicy.Skip });
        var workers = new Firers(_store, [_clock], [task], Queue);

        _clock.Advance(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(960));
        var sleep = await workers.RoundAsync(0);
        var first = Assert.Single(await Firers.FiredAsync(_store, Queue));
        Assert.Equal(T0.AddSeconds(1), first.ScheduledFor);

        _clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.True(await _store.CancelAsync(first.Id)); // final now
        _clock.Advance(sleep - TimeSpan.FromMilliseconds(20));
        await workers.RoundAsync(0);
        Assert.Equal([T0.AddSeconds(2)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    [Fact]
    public async Task With_overlap_skip_a_previous_run_that_ends_within_the_lead_lets_the_next_fire_time_run()
    {
        // Input: a schedule of every second with OverlapPolicy.Skip; the run of T0+1s is still
        // pending at the round a lead before T0+2s and ends (final) 30 ms before T0+2s.
        // Expected: T0+2s runs, as it would with a round at the fire time: the run before it has
        // ended by then (OverlapPolicy.Skip: "the next one runs if the previous run has ended by then").
        var task = Firers.Task("firing-ahead.skip-lead", Queue);
        await new TaskSchedules(_store, _clock).UpsertAsync("s", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(_store, _clock)), "* * * * * *", options: new ScheduleOptions { Overlap = OverlapPolicy.Skip });
        var workers = new Firers(_store, [_clock], [task], Queue);

        _clock.Advance(TimeSpan.FromSeconds(1) - Lead);
        await workers.RoundAsync(0);
        var first = Assert.Single(await Firers.FiredAsync(_store, Queue));

        _clock.Advance(TimeSpan.FromSeconds(1));
        var sleep = await workers.RoundAsync(0);          // a lead before T0+2s, the first run not final
        _clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.True(await _store.CancelAsync(first.Id)); // final 30 ms before T0+2s
        _clock.Advance(sleep - TimeSpan.FromMilliseconds(20));
        await workers.RoundAsync(0);
        Assert.Equal([T0.AddSeconds(2)], (await Firers.FiredAsync(_store, Queue)).Select(f => f.ScheduledFor));
    }

    /// <summary>
    /// Cancels on this thread, before the hold could end: CancelAsync runs the callbacks on the
    /// thread pool, which in a busy test process took longer than the hold (up to a second), so
    /// that the hold ended first and the test failed with no cancellation seen.
    /// </summary>
    private static void CancelNow(CancellationTokenSource source) => source.Cancel();

    /// <summary>A worker holding a run whose fire time is 40 ms ahead, asked to stop; the run has not started a moment later.</summary>
    private async Task<(TestHost Host, string Label, DateTimeOffset At, string Id, Task Stop)> StopWhileHeldAsync(TimeSpan shutdownTimeout)
    {
        var host = await StartAsync(shutdownTimeout);
        var label = Guid.NewGuid().ToString("N");
        var at = T0 + TimeSpan.FromMilliseconds(40);
        var id = await SendAsync(host, label, at);
        await FetchedAsync(id);

        var stop = host.Host.StopAsync(CancellationToken.None);
        await Task.Delay(Settle);
        Assert.False(FireTimeTasks.Runs.ContainsKey(label), "The held run started before its fire time at the stop.");
        return (host, label, at, id, stop);
    }

    private Task FetchedAsync(string id) => Poll.UntilAsync(async () => (await _store.GetAsync(id))?.State == TaskState.Started, "the run is fetched (Started)", TestHost.Wait);

    private async Task<TestHost> StartAsync(TimeSpan? shutdownTimeout = null) => await TestHost.StartAsync(
        w =>
        {
            w.Queues = [FireTimeTasks.Queue];
            w.Concurrency = 2;
            w.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30);
        },
        services: s => s.AddSingleton<TimeProvider>(_clock),
        options: o => o.UseInMemory(_store));

    private static async Task<string> SendAsync(TestHost host, string label, DateTimeOffset scheduledFor)
        => await host.Client.SendCallAsync(Tasks.Note.Call(label), new EnqueueOptions(), new CallMarks(ScheduledFor: scheduledFor), CancellationToken.None);
}

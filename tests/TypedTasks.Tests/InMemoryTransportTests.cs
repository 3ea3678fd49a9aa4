using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;

namespace TypedTasks.Tests;

public sealed class InMemoryBrokerTests
{
    private static readonly string[] Default = ["default"];

    [Fact]
    public async Task Higher_priorities_are_served_first_and_each_level_in_order()
    {
        await using var broker = new InMemoryBroker();
        await broker.EnqueueAsync("default", new byte[] { 1 }, 0);
        await broker.EnqueueAsync("default", new byte[] { 2 }, 5);
        await broker.EnqueueAsync("default", new byte[] { 3 }, 9);
        await broker.EnqueueAsync("default", new byte[] { 4 }, 5);

        var leases = await broker.FetchAsync(Default, 10, CancellationToken.None);
        Assert.Equal(new byte[] { 3, 2, 4, 1 }, leases.Select(l => l.Body.Span[0]));
    }

    [Fact]
    public async Task A_lease_disposed_without_ack_goes_back_to_the_head()
    {
        await using var broker = new InMemoryBroker();
        await broker.EnqueueAsync("default", new byte[] { 1 }, 0);
        await broker.EnqueueAsync("default", new byte[] { 2 }, 0);

        var first = (await broker.FetchAsync(Default, 1, CancellationToken.None)).Single();
        await first.DisposeAsync();

        var again = (await broker.FetchAsync(Default, 1, CancellationToken.None)).Single();
        Assert.Equal(1, again.Body.Span[0]);
        await again.AckAsync();
        await again.DisposeAsync();
        Assert.Equal(1, broker.GetQueueLength("default"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => again.AckAsync().AsTask());
    }

    [Fact]
    public async Task A_fetch_waits_until_a_message_arrives_and_can_be_canceled()
    {
        await using var broker = new InMemoryBroker();
        var waiting = broker.FetchAsync(Default, 5, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await broker.EnqueueAsync("default", new byte[] { 7 }, 0);
        Assert.Equal(7, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Single().Body.Span[0]);

        using var cancel = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => broker.FetchAsync(Default, 5, cancel.Token).AsTask());
    }

    [Fact]
    public async Task Scheduled_messages_enter_their_queue_when_due()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var broker = new InMemoryBroker(time);
        await broker.ScheduleAsync("default", new byte[] { 2 }, 0, time.GetUtcNow().AddSeconds(20));
        await broker.ScheduleAsync("default", new byte[] { 1 }, 0, time.GetUtcNow().AddSeconds(10));
        Assert.Equal(2, broker.ScheduledCount);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, broker.GetQueueLength("default"));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, broker.GetQueueLength("default"));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, broker.GetQueueLength("default"));
        var leases = await broker.FetchAsync(Default, 5, CancellationToken.None);
        Assert.Equal(new byte[] { 1, 2 }, leases.Select(l => l.Body.Span[0]));
    }

    [Fact]
    public async Task A_retry_settles_the_lease_and_schedules_the_new_body()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var broker = new InMemoryBroker(time);
        await broker.EnqueueAsync("default", new byte[] { 1 }, 0);
        var lease = (await broker.FetchAsync(Default, 1, CancellationToken.None)).Single();
        await lease.RetryAsync(new byte[] { 9 }, 0, time.GetUtcNow().AddSeconds(5));
        await lease.DisposeAsync();

        Assert.Equal(0, broker.GetQueueLength("default"));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(9, (await broker.FetchAsync(Default, 1, CancellationToken.None)).Single().Body.Span[0]);
    }

    [Fact]
    public async Task A_dead_letter_keeps_the_bytes_the_reason_and_the_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        await using var broker = new InMemoryBroker(time);
        await broker.EnqueueAsync("jobs", new byte[] { 4, 2 }, 0);
        var lease = (await broker.FetchAsync(["jobs"], 1, CancellationToken.None)).Single();
        await lease.DeadLetterAsync("bad bytes");

        var letter = Assert.Single(await broker.GetDeadLettersAsync("jobs"));
        Assert.Equal(new byte[] { 4, 2 }, letter.Body.ToArray());
        Assert.Equal("bad bytes", letter.Reason);
        Assert.Equal(time.GetUtcNow(), letter.At);
        Assert.Equal("jobs", letter.Queue);
    }
}

public sealed class InMemoryResultBackendTests
{
    private static TaskInfo Info(string id, TaskState state, FakeTimeProvider time) => new(id, "t", state, 0, time.GetUtcNow(), null, default);

    [Fact]
    public async Task A_waiter_is_woken_by_the_final_state_not_by_an_intermediate_one()
    {
        var time = new FakeTimeProvider();
        var backend = new InMemoryResultBackend(timeProvider: time);
        var waiting = backend.WaitAsync("a", Timeout.InfiniteTimeSpan).AsTask();
        await backend.SetAsync(Info("a", TaskState.Started, time));
        await Task.Delay(20);
        Assert.False(waiting.IsCompleted);

        await backend.SetAsync(Info("a", TaskState.Succeeded, time));
        Assert.Equal(TaskState.Succeeded, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).State);
    }

    [Fact]
    public async Task Waiting_past_the_timeout_throws_TimeoutException()
    {
        var time = new FakeTimeProvider();
        var backend = new InMemoryResultBackend(timeProvider: time);
        var waiting = backend.WaitAsync("never", TimeSpan.FromSeconds(5)).AsTask();
        time.Advance(TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("never", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task States_expire_after_the_result_ttl()
    {
        var time = new FakeTimeProvider();
        var backend = new InMemoryResultBackend(TimeSpan.FromHours(1), time);
        await backend.SetAsync(Info("a", TaskState.Succeeded, time));
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.NotNull(await backend.GetAsync("a"));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await backend.GetAsync("a"));
    }

    [Fact]
    public async Task The_state_written_at_enqueue_never_replaces_a_state_that_got_there_first()
    {
        var time = new FakeTimeProvider();
        var backend = new InMemoryResultBackend(timeProvider: time);
        Assert.Null(await backend.TryStartAsync(Info("a", TaskState.Started, time)));
        await backend.SetEnqueuedAsync(Info("a", TaskState.Pending, time));
        Assert.Equal(TaskState.Started, (await backend.GetAsync("a"))!.State);

        Assert.True(await backend.CancelAsync("b"));
        await backend.SetEnqueuedAsync(Info("b", TaskState.Pending, time));
        Assert.Equal(TaskState.Canceled, (await backend.GetAsync("b"))!.State);

        await backend.SetEnqueuedAsync(Info("c", TaskState.Scheduled, time));
        Assert.Equal(TaskState.Scheduled, (await backend.GetAsync("c"))!.State);
    }

    [Fact]
    public async Task Starting_a_task_that_is_already_final_is_refused_and_changes_nothing()
    {
        var time = new FakeTimeProvider();
        var backend = new InMemoryResultBackend(timeProvider: time);
        Assert.Null(await backend.TryStartAsync(Info("a", TaskState.Started, time)));
        await backend.SetAsync(Info("a", TaskState.Succeeded, time));

        var final = await backend.TryStartAsync(Info("a", TaskState.Started, time));
        Assert.Equal(TaskState.Succeeded, final?.State);
        Assert.Equal(TaskState.Succeeded, (await backend.GetAsync("a"))?.State);
    }
}

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks.InMemory;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Transport;
using TypedTasks.Worker;

namespace TypedTasks.Tests.Worker;

/// <summary>
/// Each part of the worker on its own, against the in-memory store with short leases: what it
/// does to the store, and what it leaves alone.
/// </summary>
public sealed class WorkerPartsTests : IAsyncDisposable
{
    private const string Queue = "parts";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly InMemoryTaskStore _store = new(options: new InMemoryTaskStoreOptions { LeaseDuration = TimeSpan.FromMilliseconds(600) });
    private readonly CapturedLogs _logs = new();
    private readonly CancellationTokenSource _stop = new();

    private ILogger Logger => _logs.CreateLogger("worker");

    private StoreOutage Outage => new(Logger, TimeProvider.System);

    [Fact]
    public async Task The_heartbeat_keeps_the_leases_it_holds_and_without_it_they_expire()
    {
        var held = await StartOneAsync();
        var leases = new LeaseSet();
        leases.Add(held);
        var worker = new WorkerDescription([Queue], 1, new WorkerStatus(), ["parts.task"]);
        using var beats = new CancellationTokenSource();
        var heartbeat = new Heartbeat(_store, leases, worker, Outage, TimeProvider.System, Logger).RunAsync(beats.Token);

        // Twice the lease: renewed all along, so nothing is recovered, and the worker is listed with what it holds.
        await Task.Delay(1200);
        Assert.Equal(0, await _store.RecoverAsync([Queue]));
        var live = Assert.Single(await _store.GetWorkersAsync());
        Assert.Equal([held.Id], live.Running);

        await beats.CancelAsync();
        await heartbeat.WaitAsync(Wait);
        await Poll.UntilAsync(async () => await _store.RecoverAsync([Queue]) == 1, "the lease expires once the heartbeat stops", Wait);
        Assert.Equal(TaskState.Pending, (await _store.GetAsync(held.Id))!.State);
    }

    [Fact]
    public async Task The_recoverer_brings_back_a_task_whose_lease_expired_and_says_so()
    {
        var lost = await StartOneAsync();
        var recoverer = new Recoverer(_store, [Queue], Outage, TimeProvider.System, Logger).RunAsync(_stop.Token);

        await Poll.UntilAsync(async () => (await _store.GetAsync(lost.Id))!.State == TaskState.Pending, "the task is back in its queue", Wait);
        Assert.Equal(0, (await _store.GetAsync(lost.Id))!.Attempt); // the lost run does not count
        // The recoverer logs once the store's call has returned, a moment after the task is back.
        await Poll.UntilAsync(
            () => Task.FromResult(_logs.All.Any(m => m.Contains("1 task(s) of queue(s) parts whose worker stopped renewing its lease went back", StringComparison.Ordinal))),
            "the recoverer says what it brought back",
            Wait);
        await _stop.CancelAsync();
        await recoverer.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_scheduler_moves_due_tasks_into_their_queue_and_leaves_the_others()
    {
        var soon = await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope(), 0, DateTimeOffset.UtcNow.AddMilliseconds(300)));
        var later = await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope(), 0, DateTimeOffset.UtcNow.AddHours(1)));
        var scheduler = new Scheduler(_store, [Queue], Outage, TimeProvider.System, Logger).RunAsync(_stop.Token);

        await Poll.UntilAsync(async () => (await _store.GetAsync(soon))!.State == TaskState.Pending, "the due task is pending", Wait);
        Assert.Equal(TaskState.Scheduled, (await _store.GetAsync(later))!.State);
        await _stop.CancelAsync();
        await scheduler.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_cancellation_relay_signals_a_running_task_and_remembers_one_fetched_but_not_run()
    {
        var running = await StartOneAsync();
        var fetched = await StartOneAsync();
        var leases = new LeaseSet();
        leases.Add(running);
        leases.Add(fetched);
        var signalled = new ConcurrentQueue<string>();
        var relay = new CancellationRelay(_store, leases, Outage, TimeProvider.System, Logger) { CancelRunning = signalled.Enqueue };
        var watch = relay.RunAsync(_stop.Token);

        // The in-memory store's watch is in place once RunAsync returns. A task another worker
        // holds is not this relay's business.
        var elsewhere = await StartOneAsync();
        Assert.True(await _store.CancelAsync(running.Id));
        await Poll.UntilAsync(() => Task.FromResult(signalled.Contains(running.Id)), "the relay hears of the cancel", Wait);
        Assert.True(await _store.CancelAsync(fetched.Id));
        Assert.True(await _store.CancelAsync(elsewhere.Id));
        await Poll.UntilAsync(() => Task.FromResult(signalled.Contains(fetched.Id)), "the relay hears of the second cancel", Wait);

        Assert.True(relay.WasCanceled(fetched.Id));
        Assert.False(relay.WasCanceled(fetched.Id)); // told once
        Assert.DoesNotContain(elsewhere.Id, signalled);
        Assert.False(relay.WasCanceled(elsewhere.Id));
        await _stop.CancelAsync();
        await watch.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_prefetch_buffer_asks_for_more_only_once_it_is_down_to_half()
    {
        var buffer = new PrefetchBuffer(4);
        var leases = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => StartOneAsync()));
        foreach (var lease in leases)
        {
            Assert.True(buffer.TryWrite(lease));
        }

        Assert.False(buffer.TryWrite(leases[0]));
        var drained = buffer.WaitUntilDrainedAsync(_stop.Token);
        Assert.Same(leases[0], await buffer.ReadAsync(_stop.Token));
        await Task.Delay(100);
        Assert.False(drained.IsCompleted, "three left: not yet half");
        Assert.Same(leases[1], await buffer.ReadAsync(_stop.Token));
        await drained.WaitAsync(Wait);

        // What no executor took comes back in fetch order when the buffer closes.
        Assert.Equal([leases[2], leases[3]], buffer.Close());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        await _store.DisposeAsync();
    }

    private async Task<TaskLease> StartOneAsync()
    {
        await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope(), 0));
        return Assert.Single(await _store.FetchAsync([Queue], 1, CancellationToken.None));
    }

    private static byte[] Envelope() => TaskEnvelope.Write(new EnvelopeHeader("parts.task", DateTimeOffset.UtcNow, null, null, null), default(NoArguments), TaskSerializer.Options);

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }
}

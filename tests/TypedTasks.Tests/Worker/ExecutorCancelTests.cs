using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTasks.InMemory;
using TypedTasks.Metrics;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Worker;

namespace TypedTasks.Tests.Worker;

/// <summary>
/// A cancel through the relay reaches the run of its task whenever it arrives: before the run,
/// while it runs, and in between, after the executor looked for an earlier cancel and before the
/// run is registered for later ones.
/// </summary>
public sealed class ExecutorCancelTests : IAsyncDisposable
{
    private const string Queue = "runs";
    private const string TaskName = "runs.wait";

    // How long the task waits for its token before it gives up and returns: a cancel that has not
    // reached it by then was lost.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly InMemoryTaskStore _store = new();
    private readonly CapturedLogs _logs = new();
    private readonly CancellationTokenSource _stop = new();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cancel_that_arrives_between_the_check_for_an_earlier_one_and_the_run_reaches_the_tasks_token(bool timed)
    {
        // Input: a task fetched and held, whose cancel comes when the executor first reads its
        // clock: after it asked the relay whether the task was canceled before it ran, before the
        // run is registered to be told of a cancel.
        await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope(), 0));
        var lease = Assert.Single(await _store.FetchAsync([Queue], 1, CancellationToken.None));
        var leases = new LeaseSet();
        leases.Add(lease);
        var logger = _logs.CreateLogger("worker");
        var outage = new StoreOutage(logger, TimeProvider.System);
        var relay = new CancellationRelay(_store, leases, outage, TimeProvider.System, logger);
        var watch = relay.RunAsync(_stop.Token);
        var signalled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = new TaskDescriptor(TaskName, Queue, 0, timed ? TimeSpan.FromMinutes(1) : null, null, null, invocation => WaitForCancelAsync(invocation.CancellationToken, signalled));
        var clock = new CancelOnFirstReading(() => CancelNow(lease.Id));
        using var services = new ServiceCollection().BuildServiceProvider();
        var executor = new TaskExecutor(new Dictionary<string, TaskDescriptor> { [TaskName] = task }, _store, relay, outage, services, clock, logger, new MetricsRecorder(TimeProvider.System));
        relay.CancelRunning = executor.Cancel;

        await executor.RunAsync(lease, CancellationToken.None).AsTask().WaitAsync(Wait);

        // The cancel came while the run was being set up: its token is signalled, the run ends
        // Canceled at once, and the worker says so.
        Assert.True(clock.Fired, "the cancel came during the run's setup");
        Assert.True(await signalled.Task.WaitAsync(Wait), $"the task's token was not signalled within {Patience.TotalSeconds} s: the cancel was lost");
        Assert.Equal(TaskState.Canceled, (await _store.GetAsync(lease.Id))!.State);
        Assert.NotEmpty(_logs.Matching(lease.Id, "was canceled while it ran"));
        await _stop.CancelAsync();
        await watch.WaitAsync(Wait);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        await _store.DisposeAsync();
    }

    // The in-memory store cancels, and tells its watchers, before its call returns.
    private void CancelNow(string id)
    {
        var canceled = _store.CancelAsync(id);
        Assert.True(canceled.IsCompletedSuccessfully && canceled.Result, "the store canceled the task at once");
    }

    private static async ValueTask<ReadOnlyMemory<byte>> WaitForCancelAsync(CancellationToken token, TaskCompletionSource<bool> signalled)
    {
        try
        {
            await Task.Delay(Patience, token);
        }
        catch (OperationCanceledException)
        {
            signalled.TrySetResult(true);
            throw;
        }

        signalled.TrySetResult(false);
        return default;
    }

    private static byte[] Envelope() => TaskEnvelope.Write(new EnvelopeHeader(TaskName, DateTimeOffset.UtcNow, null, null, null), default(NoArguments), TaskSerializer.Options);

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }

    /// <summary>The system clock, which does one thing the first time it is read.</summary>
    private sealed class CancelOnFirstReading(Action first) : TimeProvider
    {
        private int _fired;

        public bool Fired => Volatile.Read(ref _fired) == 1;

        public override DateTimeOffset GetUtcNow()
        {
            if (Interlocked.Exchange(ref _fired, 1) == 0)
            {
                first();
            }

            return base.GetUtcNow();
        }
    }
}

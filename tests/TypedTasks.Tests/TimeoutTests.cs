using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks.InMemory;
using TypedTasks.Testing;
using TypedTasks.Worker;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

/// <summary>Synchronous code that holds its thread until the test opens its gate, and tasks that throw their own timeouts.</summary>
public static class TimeoutTasks
{
    public static ConcurrentDictionary<string, ManualResetEventSlim> Gates { get; } = new();

    public static ConcurrentDictionary<string, byte> Started { get; } = new();

    public static ConcurrentDictionary<string, byte> Returned { get; } = new();

    [Task("tests.timeout.hold", Timeout = "00:00:00.300")]
    public static int HoldPastLimit(string key) => Hold(key);

    // Its retry waits 2 s: long enough for a poll to see it Retrying (with a shorter delay it is soon Pending again).
    [Task("tests.timeout.hold-retried", Timeout = "00:00:00.300", MaxRetries = 1, RetryDelay = "00:00:02")]
    public static int HoldPastLimitRetried(string key) => Hold(key);

    [Task("tests.timeout.hold-long", Timeout = "00:05:00")]
    public static int HoldWithinLimit(string key) => Hold(key);

    /// <summary>Whether the code of the task run with <paramref name="key"/> had returned when this one started.</summary>
    [Task("tests.timeout.after")]
    public static bool StartedAfterReturn(string key) => Returned.ContainsKey(key);

    [Task("tests.timeout.own", Timeout = "00:01:00")]
    public static int ThrowOwnTimeout(string message) => throw new TimeoutException(message);

    [Task("tests.timeout.own-async", Timeout = "00:01:00")]
    public static async Task<int> ThrowOwnTimeoutLater(string message, CancellationToken ct)
    {
        await Task.Delay(1, ct);
        throw new TimeoutException(message);
    }

    public static ManualResetEventSlim Gate(string key) => Gates.GetOrAdd(key, _ => new ManualResetEventSlim());

    private static int Hold(string key)
    {
        Started.TryAdd(key, 0);

        // Bounded, so that a failing test leaves no thread behind for long.
        var opened = Gate(key).Wait(TimeSpan.FromSeconds(60));
        Returned.TryAdd(key, 0);
        return opened ? 1 : -1;
    }
}

/// <summary>
/// A task's Timeout on the in-memory broker: synchronous code that outlives it ends Failed at the
/// limit; its thread, which .NET cannot abort, keeps its worker slot until it returns, its late
/// result is discarded, and it does not hold up the worker's stop. A task's own TimeoutException
/// is its error, not a task timeout.
/// </summary>
public sealed class TimeoutTests
{
    [Fact]
    public async Task Synchronous_code_past_its_timeout_ends_Failed_at_the_limit_and_keeps_its_slot_until_it_returns()
    {
        await using var host = await TestHost.StartAsync(w => { w.Concurrency = 1; w.Prefetch = 4; });
        var key = Guid.NewGuid().ToString();
        var gate = TimeoutTasks.Gate(key);
        try
        {
            var held = await Tasks.HoldPastLimit.WithClient(host.Client).EnqueueAsync(key);
            var next = await Tasks.StartedAfterReturn.WithClient(host.Client).EnqueueAsync(key);

            // Failed once the limit passes, while its code still holds its thread.
            var failure = await Assert.ThrowsAsync<TaskFailedException>(() => held.GetAsync(TestHost.Wait));
            Assert.Equal(typeof(TaskTimeoutException).FullName, failure.RemoteType);
            Assert.Contains("00:00:00.3", failure.Error.Message, StringComparison.Ordinal);
            Assert.False(TimeoutTasks.Returned.ContainsKey(key), "the gate is still closed");

            // The only slot stays taken: a worker that freed it would start the next task at once.
            // (It may be fetched meanwhile, Started in the prefetch buffer, but it does not run.)
            await Task.Delay(300);
            Assert.Contains(await next.GetStateAsync(), new[] { TaskState.Pending, TaskState.Started });

            gate.Set();
            Assert.True(await next.GetAsync(TestHost.Wait), "the next task started before the overrunning code returned");

            // The code has returned 1 since; that late result did not replace the final state.
            Assert.True(TimeoutTasks.Returned.ContainsKey(key));
            var info = await held.GetInfoAsync();
            Assert.Equal(TaskState.Failed, info!.State);
            Assert.Equal(typeof(TaskTimeoutException).FullName, info.Error!.Type);
            Assert.True(info.Result.IsEmpty);
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task Synchronous_code_past_its_timeout_is_retried_by_the_retry_policy_once_its_slot_is_free()
    {
        await using var host = await TestHost.StartAsync(w => w.Concurrency = 1);
        var key = Guid.NewGuid().ToString();
        var gate = TimeoutTasks.Gate(key);
        try
        {
            var held = await Tasks.HoldPastLimitRetried.WithClient(host.Client).EnqueueAsync(key);
            await Poll.UntilAsync(async () => await held.GetStateAsync() == TaskState.Retrying, "the overrunning task is Retrying", TestHost.Wait);
            var retrying = await held.GetInfoAsync();
            Assert.Equal(1, retrying!.Attempt);
            Assert.Equal(typeof(TaskTimeoutException).FullName, retrying.Error!.Type);

            // The retry runs once the first run's code has returned; the gate is open by then.
            gate.Set();
            Assert.Equal(1, await held.GetAsync(TestHost.Wait));
            Assert.Equal(2, (await held.GetInfoAsync())!.Attempt);
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task Stopping_a_worker_whose_synchronous_code_never_returns_ends_within_its_shutdown_timeout_and_names_the_abandoned_runs()
    {
        var store = new InMemoryTaskStore();
        var logs = new CapturedLogs();
        var host = await TestHost.StartAsync(
            w => { w.Concurrency = 2; w.Prefetch = 1; w.ShutdownTimeout = TimeSpan.FromMilliseconds(200); },
            services: s => s.AddSingleton<ILoggerProvider>(logs),
            options: o => o.UseInMemory(store));
        var overrunKey = Guid.NewGuid().ToString();
        var withinKey = Guid.NewGuid().ToString();
        try
        {
            var overrun = await Tasks.HoldPastLimit.WithClient(host.Client).EnqueueAsync(overrunKey);
            var within = await Tasks.HoldWithinLimit.WithClient(host.Client).EnqueueAsync(withinKey);
            await Assert.ThrowsAsync<TaskFailedException>(() => overrun.GetAsync(TestHost.Wait));
            await Poll.UntilAsync(() => Task.FromResult(TimeoutTasks.Started.ContainsKey(withinKey)), "the second task started", TestHost.Wait);

            // No deadline from the host: the worker must end by itself, with both gates closed.
            await host.Host.StopAsync(CancellationToken.None).WaitAsync(TestHost.Wait);
            Assert.False(TimeoutTasks.Returned.ContainsKey(overrunKey));
            Assert.False(TimeoutTasks.Returned.ContainsKey(withinKey));

            // The overrun stays Failed; the run within its limit was interrupted and goes back.
            Assert.Equal(TaskState.Failed, await overrun.GetStateAsync());
            Assert.Equal(TaskState.Pending, await within.GetStateAsync());
            Assert.Equal(1, await store.PendingAsync("default"));
            Assert.Single(logs.Matching("abandoned", overrun.Id));
            Assert.Single(logs.Matching("abandoned", within.Id));

            // Only the run within its limit goes back; the overrun's slot is no longer waited for.
            Assert.Single(logs.Matching("canceling 1 running task(s), which go back to their queue"));
            Assert.Single(logs.Matching("1 run(s) that already ended"));
        }
        finally
        {
            TimeoutTasks.Gate(overrunKey).Set();
            TimeoutTasks.Gate(withinKey).Set();
            host.Host.Dispose();
        }
    }

    [Fact]
    public async Task Stopping_a_worker_whose_only_running_code_is_an_ended_run_does_not_say_that_tasks_go_back_to_their_queue()
    {
        var store = new InMemoryTaskStore();
        var logs = new CapturedLogs();
        var host = await TestHost.StartAsync(
            w => { w.Concurrency = 1; w.Prefetch = 1; w.ShutdownTimeout = TimeSpan.FromMilliseconds(200); },
            services: s => s.AddSingleton<ILoggerProvider>(logs),
            options: o => o.UseInMemory(store));
        var key = Guid.NewGuid().ToString();
        try
        {
            // Failed at its limit; its code still holds the only slot when the worker stops.
            var overrun = await Tasks.HoldPastLimit.WithClient(host.Client).EnqueueAsync(key);
            await Assert.ThrowsAsync<TaskFailedException>(() => overrun.GetAsync(TestHost.Wait));
            await host.Host.StopAsync(CancellationToken.None).WaitAsync(TestHost.Wait);

            Assert.Equal(TaskState.Failed, await overrun.GetStateAsync());
            Assert.Equal(0, await store.PendingAsync("default"));
            Assert.Empty(logs.Matching("go back to their queue"));
            Assert.Single(logs.Matching("shutdown timeout passed", "1 run(s) that already ended"));
        }
        finally
        {
            TimeoutTasks.Gate(key).Set();
            host.Host.Dispose();
        }
    }

    [Fact]
    public async Task Stopping_a_worker_whose_untimed_synchronous_code_never_returns_ends_at_the_hosts_shutdown_timeout()
    {
        var logs = new CapturedLogs();
        var host = await TestHost.StartAsync(
            w => { w.Concurrency = 1; w.ShutdownTimeout = TimeSpan.FromMilliseconds(100); },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var key = Guid.NewGuid().ToString();
        var gate = FaultTasks.Gates.GetOrAdd(key, _ => new ManualResetEventSlim());
        try
        {
            var held = await Tasks.HoldThread.WithClient(host.Client).EnqueueAsync(key);
            await Poll.UntilAsync(() => Task.FromResult(FaultTasks.Started.ContainsKey(key)), "the holding task started", TestHost.Wait);

            // The task has no Timeout and its code holds the executor's thread: the worker waits
            // for it only until the host gives up, then returns and names it.
            using var hostDeadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await host.Host.StopAsync(hostDeadline.Token).WaitAsync(TestHost.Wait);
            var worker = host.Host.Services.GetServices<IHostedService>().OfType<WorkerService>().Single();
            await worker.ExecuteTask!.WaitAsync(TestHost.Wait);
            Assert.False(gate.IsSet);
            Assert.Single(logs.Matching("abandoned", held.Id));
        }
        finally
        {
            gate.Set();
            host.Host.Dispose();
        }
    }

    [Fact]
    public async Task A_tasks_own_TimeoutException_is_reported_as_it_is_and_only_the_limit_is_a_task_timeout()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        var sync = await Tasks.ThrowOwnTimeout.WithClient(host.Client).EnqueueAsync("the payment service did not answer");
        var later = await Tasks.ThrowOwnTimeoutLater.WithClient(host.Client).EnqueueAsync("the mail server did not answer");
        var overrun = await Tasks.HoldPastLimit.WithClient(host.Client).EnqueueAsync(key);

        foreach (var (result, message, method) in new[]
        {
            (sync, "the payment service did not answer", nameof(TimeoutTasks.ThrowOwnTimeout)),
            (later, "the mail server did not answer", nameof(TimeoutTasks.ThrowOwnTimeoutLater)),
        })
        {
            var failure = await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(TestHost.Wait));
            Assert.Equal("System.TimeoutException", failure.RemoteType);
            Assert.Equal(message, failure.Error.Message);
            Assert.Contains(method, failure.RemoteStackTrace, StringComparison.Ordinal);
        }

        try
        {
            var limit = await Assert.ThrowsAsync<TaskFailedException>(() => overrun.GetAsync(TestHost.Wait));
            Assert.Equal(typeof(TaskTimeoutException).FullName, limit.RemoteType);
        }
        finally
        {
            TimeoutTasks.Gate(key).Set();
        }
    }
}

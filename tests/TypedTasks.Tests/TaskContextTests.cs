using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Testing;

namespace TypedTasks.Tests;

public static class ContextTasks
{
    public static ConcurrentDictionary<string, ConcurrentQueue<TaskContext>> Seen { get; } = new();

    /// <summary>Records the context of each run; fails the first run when asked, to be retried.</summary>
    [Task("tests.context.record", Queue = "context", MaxRetries = 2, RetryDelay = "00:00:00.010")]
    public static string RecordContext(string key, TaskContext context, bool failFirst, CancellationToken cancellationToken)
    {
        var runs = Seen.GetOrAdd(key, _ => new ConcurrentQueue<TaskContext>());
        runs.Enqueue(context);
        cancellationToken.ThrowIfCancellationRequested();
        return failFirst && runs.Count == 1 ? throw new InvalidOperationException("first run fails") : context.Id;
    }

    /// <summary>A task whose only parameter is its context: the caller passes nothing.</summary>
    [Task("tests.context.only", Queue = "context")]
    public static int Attempt(TaskContext context) => context.Attempt;
}

/// <summary>A <see cref="TaskContext"/> parameter is supplied by the worker and describes the run it is given to.</summary>
public sealed class TaskContextTests
{
    [Fact]
    public async Task The_worker_supplies_the_context_of_each_run_with_its_id_name_queue_attempt_and_times()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["context"]);
        var key = Guid.NewGuid().ToString();

        // Signature of the proxy: the context (like the token) is not the caller's to pass.
        var handle = await Tasks.RecordContext.WithClient(host.Client).EnqueueAsync(key, failFirst: true);
        Assert.Equal(handle.Id, await handle.GetAsync(TestHost.Wait));

        var runs = ContextTasks.Seen[key].ToArray();
        Assert.Equal([1, 2], Array.ConvertAll(runs, r => r.Attempt));
        foreach (var run in runs)
        {
            Assert.Equal(handle.Id, run.Id);
            Assert.Equal("tests.context.record", run.Name);
            Assert.Equal("context", run.Queue);
            Assert.Equal(2, run.MaxRetries);
            Assert.InRange(run.EnqueuedAt, before, DateTimeOffset.UtcNow);
            Assert.Null(run.ScheduledFor);
            Assert.Null(run.WorkflowId);
        }

        Assert.False(runs[0].IsLastAttempt);
        Assert.Equal(1, await (await Tasks.Attempt.WithClient(host.Client).EnqueueAsync()).GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_schedule_or_workflow_mark_reaches_the_task_as_ScheduledFor_and_WorkflowId()
    {
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["context"]);
        var key = Guid.NewGuid().ToString();
        var fireTime = new DateTimeOffset(2026, 3, 29, 1, 30, 0, TimeSpan.Zero);
        var call = Tasks.RecordContext.WithClient(host.Client).Call(key, false);

        var id = await host.Client.SendCallAsync(call, call.Options, new CallMarks(fireTime, "wf-7"), CancellationToken.None);
        Assert.Equal(id, await host.Client.GetResult<string>(id).GetAsync(TestHost.Wait));

        var run = Assert.Single(ContextTasks.Seen[key]);
        Assert.Equal(fireTime, run.ScheduledFor);
        Assert.Equal("wf-7", run.WorkflowId);
    }

    [Theory]
    [InlineData("", "n", "q", 1, 0, "id")]
    [InlineData("i", "", "q", 1, 0, "name")]
    [InlineData("i", "n", "", 1, 0, "queue")]
    [InlineData("i", "n", "q", 0, 0, "attempt")]
    [InlineData("i", "n", "q", 1, -1, "maxRetries")]
    public void A_context_made_by_hand_for_a_test_refuses_values_no_run_can_have(string id, string name, string queue, int attempt, int maxRetries, string parameter)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new TaskContext(id, name, queue, attempt, maxRetries, DateTimeOffset.UnixEpoch));
        Assert.Equal(parameter, error.ParamName);
    }
}

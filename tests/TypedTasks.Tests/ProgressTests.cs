using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using TypedTasks.InMemory;
using TypedTasks.Testing;
using TypedTasks.Worker;

namespace TypedTasks.Tests;

public sealed record ImportProgress(int Done, int Total, string Stage);

public static class ProgressTasks
{
    /// <summary>Reports each step, pausing between them so that a watcher sees them one by one.</summary>
    [Task("tests.progress.import")]
    public static async Task<int> Import(int steps, int pauseMs, IProgress<ImportProgress> progress, CancellationToken ct)
    {
        for (var i = 1; i <= steps; i++)
        {
            await Task.Delay(pauseMs, ct);
            progress.Report(new ImportProgress(i, steps, i == steps ? "done" : "copying"));
        }

        return steps;
    }

    /// <summary>Reports in a tight loop, as code that reports every item does.</summary>
    [Task("tests.progress.tight")]
    public static int Tight(int reports, IProgress<int> progress)
    {
        for (var i = 1; i <= reports; i++)
        {
            progress.Report(i);
        }

        return reports;
    }
}

/// <summary>A task's typed progress: stored under its run's fence, coalesced, written before the final state, read from anywhere.</summary>
public sealed class ProgressTests
{
    [Fact]
    public async Task A_caller_watches_each_step_typed_and_the_last_one_is_stored_before_the_task_ends()
    {
        await using var host = await TestHost.StartAsync();
        var handle = await Tasks.Import.WithClient(host.Client).EnqueueAsync(4, 400);
        TaskProgress<ImportProgress> progress = Tasks.Import.WithClient(host.Client).Progress(handle);

        var seen = new List<ImportProgress>();
        using var limit = new CancellationTokenSource(TestHost.Wait);
        await foreach (var update in progress.WatchAsync(TimeSpan.FromMilliseconds(20), limit.Token))
        {
            Assert.Equal(1, update.Attempt);
            seen.Add(update.Value);
        }

        // Every value seen is one the task reported, in order, ending with its last.
        Assert.Equal(new ImportProgress(4, 4, "done"), seen[^1]);
        Assert.True(seen.Count >= 2, $"saw {seen.Count} update(s)");
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Done > seen[i - 1].Done);
        }

        Assert.Equal(4, await handle.GetAsync(TestHost.Wait));
        Assert.Equal(new ImportProgress(4, 4, "done"), (await Tasks.Import.WithClient(host.Client).Progress(handle.Id).GetLatestAsync())!.Value);
    }

    [Fact]
    public async Task A_task_that_never_reported_has_no_progress_and_an_unknown_id_cannot_be_watched()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var handle = await Tasks.Import.WithClient(host.Client).EnqueueAsync(1, 1);
        Assert.Null(await Tasks.Import.WithClient(host.Client).Progress(handle).GetLatestAsync());

        var unknown = Tasks.Import.WithClient(host.Client).Progress("404@default");
        await Assert.ThrowsAsync<TaskNotFoundException>(async () =>
        {
            await foreach (var _ in unknown.WatchAsync())
            {
            }
        });
    }

    [Fact]
    public async Task A_tight_loop_of_reports_costs_one_write_per_interval_and_the_last_value_is_kept()
    {
        var store = new InMemoryTaskStore();
        await store.EnqueueAsync("default", new global::TypedTasks.Store.TaskToEnqueue(Envelope("tests.progress.tight"), 0));
        var lease = Assert.Single(await store.FetchAsync(["default"], 1, CancellationToken.None));
        var reporter = new ProgressReporter<int>(store, lease, NullLogger.Instance);

        var watch = Stopwatch.StartNew();
        for (var i = 1; i <= 100_000; i++)
        {
            reporter.Report(i);
        }

        await reporter.FlushAsync(CancellationToken.None);
        var intervals = (int)(watch.Elapsed / ProgressReporter<int>.Interval);
        Assert.InRange(reporter.Writes, 1, intervals + 2);
        Assert.Equal(100_000, MessagePack.MessagePackSerializer.Deserialize<int>((await store.GetProgressAsync(lease.Id))!.Value, TaskSerializer.Options));
    }

    private static byte[] Envelope(string task)
        => Serialization.TaskEnvelope.Write(new Serialization.EnvelopeHeader(task, DateTimeOffset.UtcNow, null, null, null), new NoArguments(), TaskSerializer.Options);

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }
}

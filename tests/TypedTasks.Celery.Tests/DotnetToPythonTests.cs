using System;
using System.Threading.Tasks;

namespace TypedTasks.Celery.Tests;

/// <summary>.NET sends, a real Python <c>celery worker</c> runs the task, the typed handle reads Celery's result backend.</summary>
public sealed class DotnetToPythonTests(CeleryFixture fixture) : IClassFixture<CeleryFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_python_task_returns_a_typed_result_and_fails_with_its_type_and_message_and_is_revoked()
    {
        await using var worker = await PythonWorker.StartAsync(fixture.Url, "py");
        var client = fixture.Client;
        var onPython = new CeleryEnqueueOptions { Queue = "py" };

        client.MakeCurrent();
        var sum = await CeleryTasks.Add.EnqueueAsync(2, 3);
        Assert.Equal(5, await sum.GetAsync(Limit));
        Assert.Equal(TaskState.Succeeded, await sum.GetStateAsync());
        Assert.Equal(42, await PythonTasks.Add(40, 2));

        var boom = await CeleryTasks.Boom.EnqueueAsync("no such account");
        var failed = await Assert.ThrowsAsync<TaskFailedException>(() => boom.GetAsync(Limit));
        Assert.Equal("builtins.ValueError", failed.RemoteType);
        Assert.Equal("no such account", failed.Error.Message);
        Assert.Contains("ValueError", failed.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal(TaskState.Failed, await boom.GetStateAsync());
        var thrown = await Assert.ThrowsAsync<TaskFailedException>(() => PythonTasks.Boom("closed"));
        Assert.Equal("closed", thrown.Error.Message);

        // Held for its countdown by the Python worker, revoked meanwhile: it never runs.
        var later = await client.SendTaskAsync<int>("proj.tasks.sleep", [1], onPython with { Countdown = TimeSpan.FromSeconds(2) });
        await later.RevokeAsync();
        var revoked = await Assert.ThrowsAsync<TaskRevokedException>(() => later.GetAsync(Limit));
        Assert.Equal(TaskState.Canceled, revoked.State);
        Assert.Equal("REVOKED", await later.GetStatusAsync());
    }

    [Fact]
    public async Task A_task_nobody_runs_is_pending_and_a_bounded_wait_says_so()
    {
        var nobody = await fixture.Client.SendTaskAsync<int>("proj.tasks.add", [1, 1], new CeleryEnqueueOptions { Queue = "nobody" });

        Assert.Equal(TaskState.Pending, await nobody.GetStateAsync());
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => nobody.GetAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Contains("PENDING", timeout.Message, StringComparison.Ordinal);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Testing;

namespace TypedTasks.Celery.Tests;

/// <summary>One queue, one Python and one .NET worker, the .NET one killed with SIGKILL mid-run: every task still gets its result.</summary>
public sealed class SharedQueueTests(CeleryFixture fixture) : IClassFixture<CeleryFixture>
{
    private const string Queue = "mixed";
    private const string Visibility = "2";

    [Fact]
    public async Task Killing_the_dotnet_worker_mid_run_loses_no_task()
    {
        await using var python = await PythonWorker.StartAsync(fixture.Url, Queue, visibility: Visibility);
        await using var dotnet = StartDotnetWorker();
        var db = fixture.Connection.GetDatabase();
        var client = fixture.Client;
        var results = new List<CeleryResult<int>>();
        for (var i = 0; i < 30; i++)
        {
            results.Add(await client.SendTaskAsync<int>("proj.tasks.slowadd", [i, 1000], new CeleryEnqueueOptions { Queue = Queue }));
        }

        // Kill once the .NET worker has run some, so that it dies holding fetched messages.
        await Poll.UntilAsync(async () => await db.ListLengthAsync("runs:dotnet") >= 2, "the .NET worker running tasks", TimeSpan.FromSeconds(30));
        dotnet.Kill();

        // Restarted, as a supervisor would: it restores what its predecessor left unacknowledged
        // past the visibility timeout (kombu's own restore runs only every 100 s or so).
        await using var restarted = StartDotnetWorker();

        for (var i = 0; i < results.Count; i++)
        {
            try
            {
                Assert.Equal(i + 1000, await results[i].GetAsync(TimeSpan.FromSeconds(40)));
            }
            catch (TimeoutException timeout)
            {
                var unacked = await db.HashGetAllAsync("unacked");
                throw new TimeoutException($"{timeout.Message} Queue length {await db.ListLengthAsync(Queue)}; unacked: {string.Join(" | ", unacked.Select(u => u.Value.ToString()[..Math.Min(300, u.Value.ToString().Length)]))}; python log: {python.Log}", timeout);
            }
        }

        Assert.True(await db.ListLengthAsync("runs:python") > 0, "the Python worker ran none of the tasks");
        Assert.Contains("Put back", restarted.Output, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => await db.HashLengthAsync("unacked") == 0 && await db.SortedSetLengthAsync("unacked_index") == 0, "no message left unacknowledged", TimeSpan.FromSeconds(10));
    }

    private ChildProcess StartDotnetWorker()
        => ChildProcess.Start("TypedTasks.Celery.TestWorker", [fixture.Redis.Endpoint, Queue, Visibility]);
}

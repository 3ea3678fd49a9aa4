using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
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
        using var dotnet = StartDotnetWorker();
        try
        {
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
            await dotnet.WaitForExitAsync();

            // Restarted, as a supervisor would: it restores what its predecessor left unacknowledged
            // past the visibility timeout (kombu's own restore runs only every 100 s or so).
            using var restarted = StartDotnetWorker();

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
            restarted.Kill();
            await Poll.UntilAsync(async () => await db.HashLengthAsync("unacked") == 0 && await db.SortedSetLengthAsync("unacked_index") == 0, "no message left unacknowledged", TimeSpan.FromSeconds(10));
        }
        finally
        {
            if (!dotnet.HasExited)
            {
                dotnet.Kill();
            }
        }
    }

    private Process StartDotnetWorker()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TypedTasks.Celery.TestWorker.dll");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { dll, fixture.Redis.Endpoint, Queue, Visibility })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("the .NET worker did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}

using System;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

/// <summary>Stopping a worker loses nothing: unstarted and interrupted tasks go back to their queue.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Tasks_interrupted_by_shutdown_and_prefetched_tasks_go_back_and_run_on_the_next_worker()
    {
        var store = new InMemoryTaskStore();
        var key = Guid.NewGuid().ToString();
        var worker = await TestHost.StartAsync(w => { w.Concurrency = 1; w.Prefetch = 4; w.ShutdownTimeout = TimeSpan.FromMilliseconds(200); }, options: o => o.UseInMemory(store));
        var blocked = await Tasks.Block.WithClient(worker.Client).EnqueueAsync(key);
        var queued = new AsyncResult<int>[5];
        for (var i = 0; i < queued.Length; i++)
        {
            queued[i] = await Tasks.Add.WithClient(worker.Client).EnqueueAsync(i, 100);
        }

        var deadline = DateTime.UtcNow + TestHost.Wait;
        while (!FaultTasks.Started.ContainsKey(key) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(FaultTasks.Started.ContainsKey(key), "The blocking task never started.");
        await worker.DisposeAsync(); // the blocking task outlives the 200 ms shutdown window

        Assert.Equal(TaskState.Pending, await blocked.GetStateAsync());
        Assert.Equal(queued.Length + 1, await store.PendingAsync("default"));

        // The next worker runs the interrupted task again (it blocks until shutdown) and the rest.
        await using var next = await TestHost.StartAsync(w => w.ShutdownTimeout = TimeSpan.FromMilliseconds(200), options: o => o.UseInMemory(store));
        for (var i = 0; i < queued.Length; i++)
        {
            Assert.Equal(i + 100, await queued[i].GetAsync(TestHost.Wait));
        }

        Assert.Equal(TaskState.Started, await blocked.GetStateAsync());
    }
}

using System;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Store;

namespace TypedTasks.Tests;

/// <summary><c>Tasks.X.Call(...)</c> binds the arguments and sends nothing until it is enqueued.</summary>
public sealed class TaskCallTests
{
    [Fact]
    public async Task A_call_sends_nothing_until_enqueued_and_then_runs_with_its_arguments()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));

        TaskCall<int> call = Tasks.Add.WithClient(host.Client).Call(2, 3);
        Assert.Equal("tests.add", call.Task.Name);
        Assert.Equal(new StateCounts(0, 0, 0, 0, 0, 0, 0, 0), await store.CountAsync("default"));

        AsyncResult<int> result = await call.EnqueueAsync();
        Assert.Equal(5, await result.GetAsync(TestHost.Wait));

        // The same call enqueued twice is two tasks: a call is a value, not a handle.
        var again = await call.EnqueueAsync();
        Assert.NotEqual(result.Id, again.Id);
        Assert.Equal(5, await again.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_call_keeps_the_options_and_client_its_proxy_was_bound_to()
    {
        await using var host = await TestHost.StartAsync(worker: w => w.Queues = ["default", "reports"]);
        var id = "call-" + Guid.NewGuid().ToString("N");
        var call = Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { TaskId = id, Queue = "reports" }).Call(20, 22);
        Assert.Equal("reports", call.Options!.Queue);

        var first = await call.EnqueueAsync();
        var second = await call.EnqueueAsync();
        Assert.Equal(first.Id, second.Id);                 // the chosen id: enqueued once
        Assert.EndsWith("@reports", first.Id, StringComparison.Ordinal);
        Assert.Equal(42, await first.GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task The_call_of_a_task_without_a_result_gives_an_untyped_handle()
    {
        await using var host = await TestHost.StartAsync();
        var key = Guid.NewGuid().ToString();
        TaskCall call = Tasks.Record.WithClient(host.Client).Call(key, 7);
        Assert.IsNotType<TaskCall<int>>(call);
        var handle = await call.EnqueueAsync();
        await handle.GetAsync(TestHost.Wait);
        Assert.Equal(TaskState.Succeeded, await handle.GetStateAsync());
        Assert.Equal(7, ShapeTasks.Recorded[key]);
    }

    [Fact]
    public async Task A_call_too_large_to_send_fails_at_enqueue_and_sends_nothing()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => { o.UseInMemory(store); o.MaxMessageSize = 4096; }, withWorker: false);
        var call = Tasks.Greet.WithClient(host.Client).Call(new string('x', 10_000));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => call.EnqueueAsync());
        Assert.Contains("Nothing was sent", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, (await store.CountAsync("default")).Pending);
    }
}

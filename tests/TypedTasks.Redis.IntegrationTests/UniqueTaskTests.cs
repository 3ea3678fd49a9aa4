using System;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Testing;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>Unique tasks on a real Redis: producers in two hosts, workers in-process and in a process of their own.</summary>
public sealed class UniqueTaskTests
{
    [Fact]
    public async Task Two_producer_hosts_racing_with_one_key_get_one_id_and_one_run_and_the_key_is_free_once_it_ended()
    {
        // Input: 2 producer hosts (own connections), 25 concurrent enqueues each of it.unique with
        // one key. Expected: one id for all 50, one run; after it succeeded, an enqueue runs anew.
        await using var redis = await RedisServer.StartAsync();
        await using var a = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        await using var b = await RedisHost.StartAsync(redis.Endpoint, prefix: a.Prefix, withWorker: false);
        var key = Guid.NewGuid().ToString();

        var racing = Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
            (await Tasks.UniqueRun.WithClient(i % 2 == 0 ? a.Client : b.Client).EnqueueAsync(key, 200)).Id));
        var ids = await Task.WhenAll(racing);
        Assert.Single(ids.Distinct());
        Assert.Equal(1, (await a.Client.Store.CountAsync("default")).Pending);

        await using var worker = await RedisHost.StartAsync(redis.Endpoint, prefix: a.Prefix);
        Assert.Equal(1, await a.Client.GetResult<int>(ids[0]).GetAsync(RedisHost.Wait));
        Assert.Equal(1, WorkerTasks.Calls[key]);

        var again = await Tasks.UniqueRun.WithClient(b.Client).EnqueueAsync(key, 0);
        Assert.NotEqual(ids[0], again.Id);
        Assert.Equal(2, await again.GetAsync(RedisHost.Wait));
    }

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_while_it_runs_a_unique_task_leaves_the_key_with_that_task_until_it_ends_elsewhere()
    {
        // Input: it.unique running 60 s in a worker process, which is SIGKILLed. Expected: an
        // enqueue with the key returns the same task (recovered, not final); it runs again on
        // another worker, and once it ended the key is free.
        await using var redis = await RedisServer.StartAsync();
        await using var producer = await RedisHost.StartAsync(redis.Endpoint, withWorker: false);
        var key = Guid.NewGuid().ToString();
        await using (var holder = await WorkerProcess.StartAsync(redis.Endpoint, producer.Prefix))
        {
            var first = await Tasks.UniqueRun.WithClient(producer.Client).EnqueueAsync(key, 60_000);
            await Poll.UntilAsync(async () => await first.GetStateAsync() == TaskState.Started, "the worker process started the task", RedisHost.Wait);
            holder.Kill();
            Assert.Equal(first.Id, (await Tasks.UniqueRun.WithClient(producer.Client).EnqueueAsync(key, 0)).Id);
        }

        var id = (await Tasks.UniqueRun.WithClient(producer.Client).EnqueueAsync(key, 0)).Id;
        WorkerTasks.Hurried[key] = true;
        await using var worker = await RedisHost.StartAsync(redis.Endpoint, prefix: producer.Prefix);
        var handle = producer.Client.GetResult<int>(id);

        // The in-process worker's run is the first it counts: the killed run counted in the other process.
        Assert.Equal(1, await handle.GetAsync(RedisHost.Wait));
        Assert.NotEqual(id, (await Tasks.UniqueRun.WithClient(producer.Client).EnqueueAsync(key, 0)).Id);
    }
}

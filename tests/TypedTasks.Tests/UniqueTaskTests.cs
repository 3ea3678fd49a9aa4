using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Testing;

namespace TypedTasks.Tests;

public static class UniqueTasks
{
    public static ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    public static ConcurrentDictionary<string, int> Runs { get; } = new();

    /// <summary>Unique by order: runs until its gate (order and note) opens.</summary>
    [Task("tests.unique.ship", UniqueFor = "00:10:00", UniqueBy = new[] { nameof(orderId) }, ProxyName = "UniqueShip")]
    public static async Task<string> Ship(string orderId, string note, CancellationToken token)
    {
        Runs.AddOrUpdate(orderId, 1, (_, n) => n + 1);
        await Gates.GetOrAdd(orderId + "/" + note, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(token);
        return note;
    }

    /// <summary>Unique by all its arguments.</summary>
    [Task("tests.unique.mark", UniqueFor = "00:10:00", ProxyName = "UniqueMark")]
    public static void Mark(string name, int n)
    {
    }
}

/// <summary>Unique tasks through the generated proxies, the client and a worker.</summary>
public sealed class UniqueTaskTests
{
    [Fact]
    public async Task A_duplicate_while_the_first_runs_returns_its_handle_and_after_it_ended_runs_again()
    {
        var order = Guid.NewGuid().ToString();
        await using var host = await TestHost.StartAsync();
        var ship = Tasks.UniqueShip.WithClient(host.Client);
        var first = await ship.EnqueueAsync(order, "first");
        await Poll.UntilAsync(() => Task.FromResult(UniqueTasks.Runs.ContainsKey(order)), "the first task started", TestHost.Wait);

        // Same order, another note: the note is not part of the key.
        var duplicate = await ship.EnqueueAsync(order, "second");
        Assert.Equal(first.Id, duplicate.Id);
        var other = await ship.EnqueueAsync(order + "-other", "first");
        Assert.NotEqual(first.Id, other.Id);

        UniqueTasks.Gates.GetOrAdd(order + "/first", _ => new TaskCompletionSource()).TrySetResult();
        UniqueTasks.Gates.GetOrAdd(order + "-other/first", _ => new TaskCompletionSource()).TrySetResult();
        Assert.Equal("first", await duplicate.GetAsync(TestHost.Wait));
        Assert.Equal(1, UniqueTasks.Runs[order]);

        var again = await ship.EnqueueAsync(order, "again");
        Assert.NotEqual(first.Id, again.Id);
        UniqueTasks.Gates.GetOrAdd(order + "/again", _ => new TaskCompletionSource()).TrySetResult();
        Assert.Equal("again", await again.GetAsync(TestHost.Wait));
        Assert.Equal(2, UniqueTasks.Runs[order]);
    }

    [Fact]
    public async Task Without_UniqueBy_every_argument_is_part_of_the_key_in_single_and_batched_enqueues()
    {
        var store = new InMemoryTaskStore();
        await using var producer = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var mark = Tasks.UniqueMark.WithClient(producer.Client);

        var first = await mark.EnqueueAsync("x", 1);
        Assert.Equal(first.Id, (await mark.EnqueueAsync("x", 1)).Id);
        Assert.NotEqual(first.Id, (await mark.EnqueueAsync("x", 2)).Id);
        Assert.NotEqual(first.Id, (await mark.With(new EnqueueOptions { Queue = "elsewhere" }).EnqueueAsync("x", 1)).Id);

        var batch = await mark.EnqueueManyAsync([("y", 1), ("x", 1), ("y", 1)]);
        Assert.Equal(batch[0].Id, batch[2].Id);
        Assert.Equal(first.Id, batch[1].Id);
        Assert.Equal(3, (await store.CountAsync("default")).Pending);
    }

    [Fact]
    public void The_unique_key_is_the_task_name_and_a_hash_of_the_unique_arguments_only()
    {
        var descriptor = Tasks.UniqueShip.Descriptor;
        Assert.Equal(TimeSpan.FromMinutes(10), descriptor.UniqueFor);
        Assert.Equal([0], descriptor.UniqueBy);
        Assert.Empty(Tasks.UniqueMark.Descriptor.UniqueBy);

        var key = UniqueKeys.For(descriptor, new Arguments("order-1", "a"));
        Assert.Matches("^tests\\.unique\\.ship:[0-9a-f]{32}$", key);
        Assert.Equal(key, UniqueKeys.For(descriptor, new Arguments("order-1", "b")));
        Assert.NotEqual(key, UniqueKeys.For(descriptor, new Arguments("order-2", "a")));
        Assert.Null(UniqueKeys.For(Tasks.Add.Descriptor, new Arguments("order-1", "a")));
    }

    private readonly struct Arguments(string orderId, string note) : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(2);
            writer.Write(orderId);
            writer.Write(note);
        }
    }
}

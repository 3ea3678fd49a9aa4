using System;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

/// <summary>
/// Queue names and message sizes are checked before anything is sent: one rule for queue names in
/// the client, the worker and the tools (the generator's TT0011), and a configurable size limit.
/// </summary>
public sealed class EnqueueInputTests
{
    [Theory]
    [InlineData("default", true)]
    [InlineData("reports.eu-west_1:high", true)]
    [InlineData("", false)]
    [InlineData("my queue", false)]
    [InlineData("tab\there", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("bad{q}", false)]
    [InlineData("}", false)]
    public void One_rule_decides_what_a_queue_name_is(string name, bool valid)
    {
        Assert.Equal(valid, QueueName.IsValid(name));
        Assert.Equal(valid, QueueName.Problem(name) is null);
    }

    [Fact]
    public void A_queue_name_has_at_most_200_characters()
    {
        Assert.True(QueueName.IsValid(new string('q', 200)));
        Assert.False(QueueName.IsValid(new string('q', 201)));
        Assert.False(QueueName.IsValid(null));
    }

    [Theory]
    [InlineData("my queue")]
    [InlineData("bad{q}")]
    [InlineData("mail@eu")]
    [InlineData("")]
    public async Task An_invalid_EnqueueOptions_Queue_is_refused_and_nothing_is_sent(string queue)
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var id = Guid.NewGuid().ToString();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { Queue = queue, TaskId = id }).EnqueueAsync(1, 2));
        Assert.Contains("EnqueueOptions.Queue", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{queue}' is not a valid queue name", error.Message, StringComparison.Ordinal);
        Assert.Contains("without white space, braces or '@'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.PendingAsync(queue));
        Assert.Null(await host.Client.GetInfoAsync(id));

        await Assert.ThrowsAsync<ArgumentException>(() => Tasks.Add.WithClient(host.Client).With(new EnqueueOptions { Queue = queue }).EnqueueManyAsync([(1, 2), (3, 4)]));
        Assert.Equal(0, await store.PendingAsync(queue));
    }

    [Fact]
    public async Task A_result_read_through_another_tasks_proxy_names_the_task_the_id_is_of()
    {
        // Input: the id of a succeeded tests.add (an int), read through the proxy of
        // tests.echo-order (an Order). Error: the result cannot be read as Order, and the id is of
        // tests.add, not tests.echo-order.
        await using var host = await TestHost.StartAsync();
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(2, 3);
        Assert.Equal(5, await sum.GetAsync(TestHost.Wait));

        var wrong = Tasks.EchoOrder.WithClient(host.Client).GetResult(sum.Id);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => wrong.GetAsync(TestHost.Wait));
        Assert.StartsWith($"The result of task tests.add ({sum.Id}) cannot be read as {typeof(Order)}", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("The id is of task tests.add, not tests.echo-order: read it through the proxy of tests.add.", error.Message, StringComparison.Ordinal);

        // Read through its own proxy, the same id still gives its result.
        Assert.Equal(5, await Tasks.Add.WithClient(host.Client).GetResult(sum.Id).GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_bad_call_fails_the_task_it_returns_and_throws_nothing_at_the_call()
    {
        // Input: an enqueue to the queue "bad queue", one of a message over the size limit, a
        // call's enqueue to "bad queue", and a wait with a negative timeout. Each call returns a
        // task, which fails with the error; nothing is stored.
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var bad = new EnqueueOptions { Queue = "bad queue" };

        var badQueue = Tasks.Add.WithClient(host.Client).With(bad).EnqueueAsync(1, 2);
        var tooBig = Tasks.Greet.WithClient(host.Client).EnqueueAsync(new string('x', TaskDefaults.MaxMessageSize), "Hi", 1);
        var badCall = Tasks.Add.WithClient(host.Client).With(bad).Call(1, 2).EnqueueAsync();
        var negative = host.Client.GetResult<int>("x@q").GetAsync(TimeSpan.FromSeconds(-2));

        Assert.True(badQueue.IsFaulted);
        Assert.Contains("'bad queue' is not a valid queue name", (await Assert.ThrowsAsync<ArgumentException>(() => badQueue)).Message, StringComparison.Ordinal);
        Assert.True(tooBig.IsFaulted);
        Assert.Contains("more than the limit of 4,194,304 bytes", (await Assert.ThrowsAsync<ArgumentException>(() => tooBig)).Message, StringComparison.Ordinal);
        Assert.True(badCall.IsFaulted);
        await Assert.ThrowsAsync<ArgumentException>(() => badCall);
        Assert.True(negative.IsFaulted);
        Assert.Equal("timeout", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => negative)).ParamName);
        Assert.Equal(0, await store.PendingAsync(TaskDefaults.Queue));

        // Input: an enqueue on a store that was disposed, which throws at its call.
        await store.DisposeAsync();
        var late = Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 2);
        Assert.True(late.IsFaulted);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => late);
    }

    [Theory]
    [InlineData("bad{q}")]
    [InlineData("my queue")]
    public async Task A_worker_configured_with_an_invalid_queue_stops_the_host_at_start(string bad)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(
            configuration: new() { ["TypedTasks:Worker:Queues:0"] = "ok", ["TypedTasks:Worker:Queues:1"] = bad }));
        Assert.StartsWith($"TypedTasks:Worker:Queues: '{bad}' is not a valid queue name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_over_the_default_limit_is_refused_at_enqueue_with_its_size_and_the_setting()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var id = Guid.NewGuid().ToString();
        var big = new string('x', TaskDefaults.MaxMessageSize);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Tasks.Greet.WithClient(host.Client).With(new EnqueueOptions { TaskId = id }).EnqueueAsync(big, "Hi", 1));
        Assert.Contains("The message of task 'tests.defaults' is 4,194,", error.Message, StringComparison.Ordinal);
        Assert.Contains("more than the limit of 4,194,304 bytes (TypedTasks:MaxMessageSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.PendingAsync(TaskDefaults.Queue));
        Assert.Null(await host.Client.GetInfoAsync(id));

        // Just under the limit goes through.
        var fits = await Tasks.Greet.WithClient(host.Client).EnqueueAsync(new string('x', TaskDefaults.MaxMessageSize - 1024), "Hi", 1);
        Assert.Equal(1, await store.PendingAsync(TaskDefaults.Queue));
        Assert.NotNull(fits);
    }

    [Fact]
    public async Task The_limit_is_configurable_and_a_batch_with_one_message_over_it_sends_nothing()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(
            options: o => o.UseInMemory(store),
            configuration: new() { ["TypedTasks:MaxMessageSize"] = "2048" },
            withWorker: false);
        Assert.Equal(2048, host.Client.MaxMessageSize);

        var names = Enumerable.Range(0, 10).Select(i => (i == 9 ? new string('x', 3000) : "n" + i, "Hi", 1)).ToList();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Tasks.Greet.WithClient(host.Client).EnqueueManyAsync(names));
        Assert.Contains("more than the limit of 2,048 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.PendingAsync(TaskDefaults.Queue));
    }

    [Fact]
    public async Task A_limit_below_1024_bytes_stops_the_host_at_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(configuration: new() { ["TypedTasks:MaxMessageSize"] = "10" }));
        Assert.Contains("TypedTasks:MaxMessageSize must be at least 1024 bytes", error.Message, StringComparison.Ordinal);
    }
}

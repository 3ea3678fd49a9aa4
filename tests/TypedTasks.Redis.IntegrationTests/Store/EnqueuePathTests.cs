using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// The enqueue path's shortcuts against a real server: a task id's queue found without taking the
/// id apart, the last queue's sequence key kept, FCALL arguments sent as what they hold rather
/// than boxed, and bad input refused in the returned task, never thrown at the call.
/// </summary>
public sealed class EnqueuePathTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _prefix = "ep" + Guid.NewGuid().ToString("N")[..8];

    [Theory]
    [InlineData("", null)]
    [InlineData("@", null)]
    [InlineData("own@", null)]
    [InlineData("@q", null)]
    [InlineData("no-queue", null)]
    [InlineData("own@q", "q")]
    [InlineData("a@b@q", "q")]
    [InlineData("own@@q", "q")]
    [InlineData("own@{q}", null)]
    [InlineData("own@q q", null)]
    [InlineData("own@q\t", null)]
    [InlineData("zé@файлы", "файлы")]
    [InlineData("own@😀", "😀")]
    public void A_task_ids_queue_is_what_follows_its_last_at_sign_if_that_is_a_queue_name(string id, string? queue)
    {
        // Input: ids with no '@', one at either end, several, and queue parts that are not queue
        // names; non-ASCII ones. TryQueueOf and TrySplit agree, and the parts make the id again.
        Assert.Equal(queue is not null, TaskIds.TryQueueOf(id, out var found));
        Assert.Equal(queue, found);
        Assert.Equal(queue is not null, TaskIds.TrySplit(id, out var split, out var own));
        Assert.Equal(queue, split);
        if (queue is not null)
        {
            Assert.Equal(id, own + "@" + split);
        }
    }

    [Fact]
    public void A_task_ids_queue_may_be_200_characters_and_no_more()
    {
        // Input: a chosen id of 300 characters with '@' in it, then a queue of 200, and of 201.
        var chosen = new string('c', 150) + "@" + new string('d', 149);
        Assert.True(TaskIds.TrySplit(chosen + "@" + new string('q', 200), out var queue, out var own));
        Assert.Equal(new string('q', 200), queue);
        Assert.Equal(chosen, own);
        Assert.False(TaskIds.TryQueueOf(chosen + "@" + new string('q', 201), out _));
    }

    [Fact]
    public async Task Each_queue_gets_its_own_sequence_key_while_many_queues_enqueue_at_once()
    {
        // Input: 16 queues, each sent 40 tasks, all at once from the thread pool, so that the kept
        // sequence key changes hands all the time.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = _prefix });
        var queues = Enumerable.Range(0, 16).Select(i => "q" + i).ToArray();
        var sends = queues.SelectMany(q => Enumerable.Range(0, 40).Select(_ => Task.Run(async () => (Queue: q, Id: await store.EnqueueAsync(q, New(Small()))))));
        var sent = await Task.WhenAll(sends).WaitAsync(Bound);

        // Every id names its queue; each queue's sequence counts its own 40 tasks and no other's.
        foreach (var (queue, id) in sent)
        {
            Assert.EndsWith("@" + queue, id, StringComparison.Ordinal);
        }

        foreach (var queue in queues)
        {
            var ids = sent.Where(s => s.Queue == queue).Select(s => Sequence(s.Id)).Order().ToArray();
            Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), ids);
            Assert.Equal(40, (await store.CountAsync(queue)).Pending);
            Assert.Equal($"{_prefix}:{{{queue}}}:seq", (string)store.SeqKey(queue)!);
        }

        // The sequence key of a queue asked for in turns with another is that queue's each time.
        Parallel.For(0, 20_000, i =>
        {
            var queue = queues[i % queues.Length];
            Assert.Equal($"{_prefix}:{{{queue}}}:seq", (string)store.SeqKey(queue)!);
        });
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("minus one")]
    [InlineData("twenty")]
    [InlineData("twenty-one")]
    [InlineData("long")]
    [InlineData("ulong")]
    [InlineData("double")]
    [InlineData("true")]
    [InlineData("empty")]
    [InlineData("empty text")]
    [InlineData("text")]
    [InlineData("bytes")]
    [InlineData("no bytes")]
    [InlineData("slice")]
    [InlineData("head")]
    public async Task A_value_sent_as_what_it_holds_reaches_the_server_as_the_boxed_value_did(string kind)
    {
        // Input: a value of each kind the scripts are given, echoed once as a boxed RedisValue
        // (how FCALL arguments went before) and once as RedisValue.Box() makes it.
        var value = ValueOf(kind);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        var db = connection.GetDatabase();
        var boxed = (byte[]?)await db.ExecuteAsync("ECHO", (object)value);
        var unboxed = (byte[]?)await db.ExecuteAsync("ECHO", value.Box() ?? value);

        Assert.NotNull(boxed);
        Assert.Equal(boxed, unboxed);
        Assert.Equal((byte[]?)value ?? [], boxed);
    }

    private static RedisValue ValueOf(string kind) => kind switch
    {
        "zero" => 0,
        "minus one" => -1,
        "twenty" => 20,
        "twenty-one" => 21,
        "long" => long.MinValue,
        "ulong" => ulong.MaxValue,
        "double" => 2.5,
        "true" => true,
        "empty" => RedisValue.EmptyString,
        "empty text" => string.Empty,
        "text" => "\u00e9\u0000x",
        "bytes" => new byte[] { 0, 1, 255 },
        "no bytes" => Array.Empty<byte>(),
        "slice" => new ReadOnlyMemory<byte>([9, 1, 2, 3, 9], 1, 3),
        "head" => new ReadOnlyMemory<byte>([1, 2, 3, 9], 0, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No such kind of value."),
    };

    [Fact]
    public async Task A_task_enqueued_by_FCALL_is_stored_byte_for_byte_with_what_it_was_given()
    {
        // Input: once the function library is loaded, tasks whose envelope is a slice of a larger
        // array, with a chosen non-ASCII id, the highest priority and a due time.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = _prefix });
        var admin = connection.GetServer(redis.Server.Endpoint);
        await Poll.UntilAsync(async () => (await store.CountAsync("q")).Pending == 0 && await CallsAsync(admin, "fcall") > 0, "a count goes by FCALL", Bound);
        var envelope = Envelope("Add", 7);
        var wider = new byte[envelope.Length + 10];
        envelope.CopyTo(wider, 5);
        var before = await CallsAsync(admin, "fcall");

        var chosen = await store.EnqueueAsync("q", new TaskToEnqueue(new ReadOnlyMemory<byte>(wider, 5, envelope.Length), TaskDefaults.MaxPriority, DateTimeOffset.UtcNow.AddHours(1), "zé-ид-😀"));
        var plain = await store.EnqueueAsync("q", new TaskToEnqueue(new ReadOnlyMemory<byte>(wider, 5, envelope.Length), 0));

        Assert.True(await CallsAsync(admin, "fcall") > before, "the enqueues went by FCALL");
        Assert.Equal("zé-ид-😀@q", chosen);
        var stored = (await store.GetStoredAsync(chosen))!;
        Assert.Equal(envelope, stored.Envelope.ToArray());
        Assert.Equal(TaskDefaults.MaxPriority, stored.Priority);
        Assert.Equal(TaskState.Scheduled, stored.Info.State);
        var lease = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
        Assert.Equal(plain, lease.Id);
        Assert.Equal(envelope, lease.Envelope.ToArray());
    }

    [Fact]
    public async Task Bad_input_fails_the_returned_task_and_is_not_thrown_at_the_call()
    {
        // Input: an enqueue to the queue "bad queue", and one of a task with no envelope.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = _prefix });

        var badQueue = store.EnqueueAsync("bad queue", New(Small()));
        var noEnvelope = store.EnqueueAsync("q", new TaskToEnqueue(ReadOnlyMemory<byte>.Empty, 0));

        Assert.True(badQueue.IsFaulted);
        Assert.Contains("'bad queue' is not a valid queue name", (await Assert.ThrowsAsync<ArgumentException>(async () => await badQueue)).Message, StringComparison.Ordinal);
        Assert.True(noEnvelope.IsFaulted);
        Assert.Equal("task", (await Assert.ThrowsAsync<ArgumentException>(async () => await noEnvelope)).ParamName);
        Assert.Equal(0, (await store.CountAsync("q")).Pending);
    }
}

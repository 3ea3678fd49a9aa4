using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Testing;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// Long task names kept once per queue (docs/redis-layout.md, "Task names"): a record holds the
/// name's number, every reader gets the envelope whole, and a table that cannot be used leaves
/// the name in place.
/// </summary>
public abstract class TaskNameTableTests() : OneStoreTests("nt")
{
    // 32 bytes (a 2-byte MessagePack string header) and 20 bytes (a 1-byte one).
    private const string Long = "Shop.Billing.Invoices.ChargeCard";
    private const string Mid = "Shop.Orders.Confirm1";

    /// <summary>The record of <paramref name="id"/> as stored: its bucket field, or its side key when the field is <c>x</c>.</summary>
    private async Task<byte[]> StoredRecordAsync(string queue, string id)
    {
        var seq = Sequence(id).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var field = (byte[])(await Raw.HashGetAsync(Bucket(Prefix, queue, id), seq))!;
        return field is [(byte)'x'] ? (byte[])(await Raw.StringGetAsync(K(queue, "x:" + seq)))! : field;
    }

    private static bool Holds(byte[] record, string text) => record.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private async Task<List<TaskLease>> FetchAsync(string queue, int count)
    {
        var leases = new List<TaskLease>();
        using var cts = new CancellationTokenSource(Bound);
        while (leases.Count < count)
        {
            leases.AddRange(await Store.FetchAsync([queue], count - leases.Count, cts.Token));
        }

        return leases;
    }

    [Fact]
    public async Task A_long_name_is_kept_once_per_queue_and_every_reader_gets_the_envelope_whole()
    {
        // Input: tasks named Long (32 bytes) twice, Mid (20), a 17-byte and a 16-byte name, and
        // "Add", in one call; then Long again in a second call. Expected: the names of 17 bytes
        // and more are numbered 1, 2, 3 in the queue's table (Long once; the last number given
        // kept in the seq key) and their records hold
        // the number, not the name, and fit the 64 bytes of an inline record; the 16-byte name and
        // "Add" stay in place. A read, a page, a fetch, a wait on a failure, the failed page and a
        // fetch after a requeue all give each envelope byte for byte as it was sent.
        var seventeen = new string('s', 17);
        var sixteen = new string('t', 16);
        var envelopes = new[] { Named(Long, 1), Named(Long, 2), Named(Mid, 3), Named(seventeen, 4), Named(sixteen, 5), Named("Add", 6) };
        var ids = await Store.EnqueueManyAsync("nt", [.. envelopes.Select(e => New(e))]);
        var later = Named(Long, 7);
        var again = await Store.EnqueueAsync("nt", New(later));

        var table = (await Raw.HashGetAllAsync(K("nt", "names"))).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        Assert.Equal("3", (string?)await Raw.HashGetAsync(K("nt", "seq"), "names"));
        Assert.Equal(
            new Dictionary<string, string> { ["=" + Long] = "1", ["1"] = Long, ["=" + Mid] = "2", ["2"] = Mid, ["=" + seventeen] = "3", ["3"] = seventeen },
            table);
        foreach (var (id, name) in new[] { (ids[0], Long), (ids[1], Long), (ids[2], Mid), (ids[3], seventeen), (again, Long) })
        {
            var record = await StoredRecordAsync("nt", id);
            Assert.False(Holds(record, name), $"the record of {id} holds {name}");
            Assert.InRange(record.Length, 1, 64);
        }

        Assert.True(Holds(await StoredRecordAsync("nt", ids[4]), sixteen));
        Assert.True(Holds(await StoredRecordAsync("nt", ids[5]), "Add"));

        var all = ids.Append(again).ToArray();
        var sent = envelopes.Append(later).ToArray();
        for (var i = 0; i < all.Length; i++)
        {
            Assert.Equal(sent[i], (await Store.GetStoredAsync(all[i]))!.Envelope.ToArray());
            Assert.Equal(TaskEnvelope.TryReadTaskName(sent[i]), (await Store.GetAsync(all[i]))!.TaskName);
        }

        var page = await Store.ListAsync("nt", TaskState.Pending, 0, 10);
        Assert.Equal(all.Order(), page.Select(t => t.Info.Id).Order());
        foreach (var task in page)
        {
            Assert.Equal(sent[Array.IndexOf(all, task.Info.Id)], task.Envelope.ToArray());
        }

        var leases = await FetchAsync("nt", all.Length);
        foreach (var lease in leases)
        {
            Assert.Equal(sent[Array.IndexOf(all, lease.Id)], lease.Envelope.ToArray());
            Assert.Equal(TaskEnvelope.TryReadTaskName(lease.Envelope), (await Store.GetAsync(lease.Id))!.TaskName);
        }

        var first = leases.Single(l => l.Id == ids[0]);
        var waiting = Store.WaitAsync(ids[0], Bound).AsTask();
        Assert.True(await Store.CompleteAsync(first, TaskCompletion.Failed(new TaskError("E", "no", null))));
        var failed = await waiting;
        Assert.Equal((TaskState.Failed, Long), (failed.State, failed.TaskName));
        Assert.Equal(sent[0], Assert.Single(await Store.ListAsync("nt", TaskState.Failed, 0, 10)).Envelope.ToArray());

        Assert.Equal(1, await Store.RequeueAsync([ids[0]]));
        var rerun = Assert.Single(await FetchAsync("nt", 1));
        Assert.Equal(ids[0], rerun.Id);
        Assert.Equal(sent[0], rerun.Envelope.ToArray());
    }

    [Fact]
    public async Task A_name_table_of_another_type_or_full_leaves_the_name_in_place_and_the_task_runs()
    {
        // Input: queue "wt" whose names key is a string; queue "ft" that has given its 4,096
        // numbers. Expected: a task named Long is stored with its name in place on both
        // (nothing refused), and is fetched whole and succeeds; the string is left as it was.
        await Raw.StringSetAsync(K("wt", "names"), "someone else's");
        await Raw.HashSetAsync(K("ft", "seq"), "names", 4096);
        foreach (var queue in new[] { "wt", "ft" })
        {
            var envelope = Named(Long, 1);
            var id = await Store.EnqueueAsync(queue, New(envelope));
            Assert.True(Holds(await StoredRecordAsync(queue, id), Long));
            var lease = Assert.Single(await FetchAsync(queue, 1));
            Assert.Equal(envelope, lease.Envelope.ToArray());
            Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
            Assert.Equal(TaskState.Succeeded, (await Store.GetAsync(id))!.State);
        }

        Assert.Equal("someone else's", (string?)await Raw.StringGetAsync(K("wt", "names")));
        Assert.False(await Raw.KeyExistsAsync(K("ft", "names")));
    }

    [Fact]
    public async Task A_number_whose_table_is_gone_reaches_the_worker_as_an_envelope_that_says_so_and_the_task_is_kept()
    {
        // Input: a task named Long stored; its queue's names key deleted by hand. Expected: the
        // fetch gives the envelope with the number, which the envelope reader refuses with "the
        // task name is the integer 1 (a name-table number its store no longer holds, ...)" (a
        // worker fails such a task with that reason); the task is still there, Started, to be failed.
        var id = await Store.EnqueueAsync("gt", New(Named(Long, 1)));
        await Raw.KeyDeleteAsync(K("gt", "names"));
        var lease = Assert.Single(await FetchAsync("gt", 1));
        var refused = Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(lease.Envelope));
        Assert.Contains("the task name is the integer 1 (a name-table number its store no longer holds", refused.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Started, (await Store.GetAsync(id))!.State);
        Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("TypedTasks.UnreadableMessage", refused.Message, null))));
        Assert.Equal(TaskState.Failed, (await Store.GetAsync(id))!.State);
    }

    [Fact]
    public async Task A_limit_keyed_by_a_long_name_counts_under_the_whole_name()
    {
        // Input: a task named Long limited to one at a time by its name, and one by
        // "<Long>|tenant=7" (both kept in the record without the name, which the record holds as
        // its number), and a third task under the first limit. Expected: the records fit inline;
        // the limits in use show the whole keys; one fetch starts the first two and holds the third.
        var whole = await Store.EnqueueAsync("lt", New(Named(Long, 1)) with { Limits = [new TaskLimit(Long, 1)] });
        var keyed = await Store.EnqueueAsync("lt", New(Named(Long, 2)) with { Limits = [new TaskLimit(Long + "|tenant=7", 1)] });
        var held3 = Named(Long, 3);
        var third = await Store.EnqueueAsync("lt", New(held3) with { Limits = [new TaskLimit(Long, 1)] });
        Assert.InRange((await StoredRecordAsync("lt", whole)).Length, 1, 64);

        using var cts = new CancellationTokenSource(Bound);
        var started = await Store.FetchAsync(["lt"], 10, cts.Token);
        Assert.Equal([whole, keyed], started.Select(l => l.Id));
        Assert.Equal(
            [new StoredLimit(Long, 1, null, 1, 1), new StoredLimit(Long + "|tenant=7", 1, null, 1, 0)],
            await Store.GetLimitsAsync("lt", 10));
        var held = Assert.Single(await Store.ListHeldAsync("lt", new TaskLimit(Long, 1), 0, 10));
        Assert.Equal(third, held.Info.Id);
        Assert.Equal(held3, held.Envelope.ToArray());
    }

    [Fact]
    public async Task A_done_frame_of_a_task_with_a_long_name_carries_the_envelope_whole()
    {
        // Input: a subscriber on the done channel; two tasks named Long: one canceled while
        // pending, one fetched and failed. Expected: each done frame's record holds the envelope
        // byte for byte as sent (announce, shared.lua), so a waiter woken by the frame reads the
        // name, not its number.
        var frames = new System.Collections.Concurrent.ConcurrentDictionary<string, byte[]>();
        var channel = RedisChannel.Literal(Prefix + ":store:done");
        await Connection.GetSubscriber().SubscribeAsync(channel, (_, message) =>
        {
            ReadOnlyMemory<byte> rest = (byte[])message!;
            while (rest.Length >= 6)
            {
                int idLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(rest.Span);
                var recordLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(rest.Span[(2 + idLength)..]);
                frames[Encoding.UTF8.GetString(rest.Span.Slice(2, idLength))] = rest.Slice(6 + idLength, recordLength).ToArray();
                rest = rest[(6 + idLength + recordLength)..];
            }
        });

        var canceled = Named(Long, 1);
        var failing = Named(Long, 2);
        var canceledId = await Store.EnqueueAsync("df", New(canceled));
        var failingId = await Store.EnqueueAsync("df", New(failing));
        Assert.True(await Store.CancelAsync(canceledId));
        var lease = Assert.Single(await FetchAsync("df", 1));
        Assert.Equal(failingId, lease.Id);
        Assert.True(await Store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("E", "no", null))));

        await Poll.UntilAsync(() => Task.FromResult(frames.ContainsKey(canceledId) && frames.ContainsKey(failingId)), "both done frames arrived", Bound);
        await Connection.GetSubscriber().UnsubscribeAsync(channel);
        Assert.Equal(canceled, StoreRecord.Read(canceledId, frames[canceledId]).Envelope.ToArray());
        Assert.Equal(failing, StoreRecord.Read(failingId, frames[failingId]).Envelope.ToArray());
    }

    [Fact]
    public async Task A_name_table_made_another_type_fails_no_read_and_the_task_reaches_the_worker_saying_so()
    {
        // Input: a task named Long stored; its queue's names key then replaced by a string (the
        // scripts' HGET of the name there fails). Expected: a read, a page and a fetch all answer
        // (nothing is refused), giving the envelope with the number, which the reader refuses
        // with its reason; the task is kept, Started, and the string is left as it was.
        var id = await Store.EnqueueAsync("tt", New(Named(Long, 1)));
        await Raw.KeyDeleteAsync(K("tt", "names"));
        await Raw.StringSetAsync(K("tt", "names"), "someone else's");
        Assert.NotEqual(Long, TaskEnvelope.TryReadTaskName((await Store.GetStoredAsync(id))!.Envelope));
        Assert.Single(await Store.ListAsync("tt", TaskState.Pending, 0, 10));
        var lease = Assert.Single(await FetchAsync("tt", 1));
        var refused = Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(lease.Envelope));
        Assert.Contains("the task name is the integer 1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(TaskState.Started, (await Store.GetAsync(id))!.State);
        Assert.Equal("someone else's", (string?)await Raw.StringGetAsync(K("tt", "names")));
    }

    [Fact]
    public async Task A_number_whose_table_was_deleted_and_made_again_never_names_another_task()
    {
        // Input: a task named Long stored (number 1); the names key deleted by hand (the case
        // docs/redis-layout.md describes); then a task named Mid enqueued on the same queue, which
        // makes the table again. Expected: Mid gets number 2, not 1 again (the counter is in the
        // seq key); the first task is never read or fetched as a task named Mid: it reaches the
        // worker as an envelope that says its number 1 is not in the table.
        var first = await Store.EnqueueAsync("rt", New(Named(Long, 1)));
        await Raw.KeyDeleteAsync(K("rt", "names"));
        await Store.EnqueueAsync("rt", New(Named(Mid, 2)));

        Assert.Equal("2", (string?)await Raw.HashGetAsync(K("rt", "names"), "=" + Mid));
        Assert.NotEqual(Mid, TaskEnvelope.TryReadTaskName((await Store.GetStoredAsync(first))!.Envelope));
        var lease = (await FetchAsync("rt", 2)).Single(l => l.Id == first);
        var refused = Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(lease.Envelope));
        Assert.Contains("the task name is the integer 1 (a name-table number its store no longer holds", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_with_a_number_where_the_name_goes_is_given_back_as_it_was_sent()
    {
        // Input: a task named Long (number 1 of the queue's table), then a body whose producer wrote
        // the integer 1 where a version 2 envelope has its name: [2, 1, ms, nil, nil, nil, [1]]
        // (the store takes any body). Expected: the body is read and fetched byte for byte as sent
        // (docs/redis-layout.md: "the envelope it gets is byte for byte the one the producer
        // sent"), not made into an envelope of task Long.
        await Store.EnqueueAsync("gb", New(Named(Long, 1)));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(2);
        writer.Write(1);
        writer.Write((ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteArrayHeader(1);
        writer.Write(1);
        writer.Flush();
        var odd = buffer.WrittenSpan.ToArray();
        var id = await Store.EnqueueAsync("gb", New(odd));

        Assert.Equal(odd, (await Store.GetStoredAsync(id))!.Envelope.ToArray());
        var lease = (await FetchAsync("gb", 2)).Single(l => l.Id == id);
        Assert.Equal(odd, lease.Envelope.ToArray());
    }

    [Fact]
    public async Task A_name_with_a_longer_string_header_than_the_shortest_stays_in_place_and_comes_back_as_sent()
    {
        // Input: an envelope whose 20-byte name Mid is written with a 2-byte string header (0xd9)
        // where MessagePack's shortest is 1 byte. Expected: its name stays in place (a number
        // would come back with the shorter header): Mid is not in the queue's table, and a read
        // and a fetch give the envelope byte for byte as sent.
        var canonical = Named(Mid, 3);
        Assert.Equal(0xa0 + Mid.Length, canonical[2]);
        byte[] wide = [.. canonical[..2], 0xd9, (byte)Mid.Length, .. canonical[3..]];
        var id = await Store.EnqueueAsync("wh", New(wide));
        Assert.Equal(wide, (await Store.GetStoredAsync(id))!.Envelope.ToArray());
        var lease = Assert.Single(await FetchAsync("wh", 1));
        Assert.Equal(wide, lease.Envelope.ToArray());
        Assert.Equal(Mid, TaskEnvelope.Read(lease.Envelope).TaskName);
        Assert.False(await Raw.HashExistsAsync(K("wh", "names"), "=" + Mid));
    }

    [Theory]
    [InlineData(126, 1)]
    [InlineData(127, 2)]
    [InlineData(254, 2)]
    [InlineData(255, 3)]
    [InlineData(4095, 3)]
    public async Task A_number_of_one_two_or_three_bytes_keeps_the_record_inline_and_gives_the_name_back(int given, int codeBytes)
    {
        // Input: a queue whose table has given `given` numbers; a task named Long enqueued (number
        // given + 1: a positive fixint up to 127, 0xcc and a byte up to 255, 0xcd and two bytes
        // above). Expected: the record holds the number in `codeBytes` bytes where the name's 34
        // bytes were, fits 64 bytes, and is read and fetched whole.
        await Raw.HashSetAsync(K("cb", "seq"), "names", given);
        var envelope = Named(Long, 1);
        var id = await Store.EnqueueAsync("cb", New(envelope));
        Assert.Equal((given + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)await Raw.HashGetAsync(K("cb", "names"), "=" + Long));
        var record = await StoredRecordAsync("cb", id);
        Assert.Equal(22 + envelope.Length - (2 + Long.Length) + codeBytes, record.Length);
        Assert.InRange(record.Length, 1, 64);
        Assert.Equal(envelope, (await Store.GetStoredAsync(id))!.Envelope.ToArray());
        Assert.Equal(envelope, Assert.Single(await FetchAsync("cb", 1)).Envelope.ToArray());
    }
}

/// <summary>Task names kept once per queue, on a single server.</summary>
public sealed class StandaloneTaskNameTableTests(RedisFixture redis) : TaskNameTableTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>Task names kept once per queue, on a 3-master Cluster: the table shares its queue's slot.</summary>
public sealed class ClusterTaskNameTableTests(RedisClusterFixture cluster) : TaskNameTableTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Redis.Store;

/// <summary>
/// Workflows on the Redis store (docs/workflows.md, decision 0002): joins in their successor's
/// slot (join.lua), members' outcomes applied by the script that ends them when the join shares
/// their queue, else left in the member queue's outbox and delivered right after (deliver.lua),
/// and re-delivered by <see cref="DeliverLeftoversAsync"/> when the process stopped in between.
/// </summary>
public sealed partial class RedisTaskStore : IWorkflowStore
{
    private const int LeftoverBatch = 100;

    /// <summary>The most outbox entries a look at an unsealed join reads per member queue.</summary>
    private const int OutboxReadLimit = 10_000;

    /// <summary>
    /// How long after a workflow's joins are written its sender has to seal them (every part of the
    /// send stored): recovery then looks at a join still unsealed and fails each member never stored
    /// (<see cref="CheckSendsAsync"/>). Long past any send that is still going on; settable for tests.
    /// </summary>
    internal TimeSpan SendGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a join whose look at its send failed waits before the next (others go first).</summary>
    private static readonly TimeSpan CheckAgainAfter = TimeSpan.FromMinutes(1);

    /// <summary>How long a recovery call's look at a queue's outbox spares the leftover sweep its own.</summary>
    private static readonly TimeSpan OutboxLookValid = TimeSpan.FromSeconds(1);

    /// <summary>Per queue, when a recovery call last saw its outbox empty (MinValue: it held entries).</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _outboxLooked = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public async ValueTask CreateJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(joins);
        foreach (var join in joins)
        {
            ArgumentNullException.ThrowIfNull(join);
            join.Check();
        }

        var calls = new List<Task>();
        foreach (var byQueue in joins.GroupBy(j => j.Queue, StringComparer.Ordinal))
        {
            foreach (var wf in byQueue.GroupBy(j => j.WorkflowId, StringComparer.Ordinal))
            {
                var list = wf.ToList();
                var now = _time.GetUtcNow();
                var args = Args(now, (13 * list.Count) + 3);
                foreach (var join in list)
                {
                    args.Add(join.Key);
                    args.Add(join.Members);
                    args.Add(join.Mode switch { JoinMode.One => "one", JoinMode.All => "all", _ => "settled" });
                    args.Add(join.Priority);
                    args.Add(join.ArgumentAt);
                    args.Add(join.Successor);
                    args.Add(join.ResultName);
                    args.Add(join.SuccessorLink is { } link ? LinkBytes(link) : RedisValue.EmptyString);
                    args.Add(MemberIdsBytes(join.MemberIds));
                    args.Add(join.Limits is { Count: > 0 } limits ? LimitsBytes(limits, join.Successor) : RedisValue.EmptyString);
                    args.Add(join.Delay is { } delay ? (long)delay.TotalMilliseconds : 0);
                    args.Add(join.NotBefore is { } eta ? eta.ToUnixTimeMilliseconds() : 0);
                    args.Add(join.Relays is { Count: > 0 } relays ? RelayBytes(relays) : RedisValue.EmptyString);
                }

                args.Add((now + SendGrace).ToUnixTimeMilliseconds());
                args.Add(list[0].WorkflowHandle ?? string.Empty);
                args.Add(wf.Key);
                calls.Add(JoinAsync(byQueue.Key, args));
            }

            if (_knownQueues.TryAdd(byQueue.Key, 0))
            {
                calls.Add(Transient.Run(_db.SetAddAsync(QueuesKey, byQueue.Key)));
            }
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Takes the joins out of their queues' sending sets (one <c>ZREM</c> per queue). A failure is
    /// not the send's: every task was stored, and recovery finds each one stored when it looks at a
    /// join left in its set.
    /// </remarks>
    public async ValueTask SealJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(joins);
        var removes = joins.Where(j => j.Members > 0).GroupBy(j => j.Queue, StringComparer.Ordinal)
            .Select(byQueue => _db.SortedSetRemoveAsync(SendingKey(byQueue.Key), [.. byQueue.Select(j => (RedisValue)j.Key)]));
        try
        {
            await Task.WhenAll(removes).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Left to recovery's look (above): a timeout or a lost connection included.
        }
    }

    /// <summary>Writes joins of one queue, then delivers what an empty group's result left for a join in another queue.</summary>
    private async Task JoinAsync(string queue, List<RedisValue> args)
    {
        var all = (RedisResult[])(await RunAsync(StoreScript.Join, [SeqKey(queue)], args).ConfigureAwait(false))!;
        await FollowUpAsync(queue, Followups(all, 1)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<int> DeliverLeftoversAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        var delivered = 0;
        var now = _time.GetUtcNow();
        foreach (var queue in Checked(queues).Distinct(StringComparer.Ordinal))
        {
            // A recovery call that just looked at the queue saw no outbox entry: nothing to scan.
            // An entry written since is the next sweep's.
            if (_outboxLooked.TryGetValue(queue, out var looked) && now - looked < OutboxLookValid)
            {
                continue;
            }

            var entries = await ReadOutboxAsync(queue, LeftoverBatch, static _ => true).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            await FollowUpAsync(queue, entries).ConfigureAwait(false);
            delivered += entries.Count;
        }

        return delivered;
    }

    /// <inheritdoc/>
    public async ValueTask<JoinInfo?> GetJoinAsync(string queue, string key, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue);
        ArgumentNullException.ThrowIfNull(key);
        HashEntry[] fields;
        try
        {
            fields = await _db.HashGetAllAsync($"{_prefix}:{{{queue}}}:join:{key}").ConfigureAwait(false);
        }
        catch (Exception ex) when (Transient.IsTransient(ex))
        {
            throw Transient.ToTransportException(ex);
        }

        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => f.Value, StringComparer.Ordinal);
        var outcomes = new Dictionary<int, TaskState>();
        foreach (var (name, value) in map)
        {
            if (name.StartsWith("o:", StringComparison.Ordinal) && int.TryParse(name.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                outcomes[i] = ((byte[])value!)[0] switch
                {
                    (byte)'s' => TaskState.Succeeded,
                    (byte)'f' => TaskState.Failed,
                    (byte)'e' => TaskState.Expired,
                    _ => TaskState.Canceled,
                };
            }
        }

        return new JoinInfo(key, (string?)map.GetValueOrDefault("wf") ?? string.Empty, (int)map.GetValueOrDefault("n"), (int)map.GetValueOrDefault("got"), (string?)map.GetValueOrDefault("state") ?? "?", outcomes, map.TryGetValue("members", out var members) ? ReadIds(members!) : [])
        {
            WorkflowHandle = map.TryGetValue("end", out var end) ? (string?)end : null,
        };
    }

    /// <summary>
    /// For crash tests: the follow-ups a script leaves (outbox deliveries, cancels) are not done,
    /// as if the process stopped right after the script; the sweep (<see cref="DeliverLeftoversAsync"/>) must do them.
    /// </summary>
    internal bool SkipFollowUps { get; set; }

    internal RedisKey OutboxKey(string queue) => $"{_prefix}:{{{queue}}}:outbox";

    /// <summary>Relays as the scripts read them: MessagePack [[join queue, join key], ...] (checked: each is key@queue).</summary>
    private static byte[] RelayBytes(IReadOnlyList<string> relays)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + (relays.Count * 48));
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(relays.Count);
        foreach (var relay in relays)
        {
            var at = relay.LastIndexOf('@');
            writer.WriteArrayHeader(2);
            writer.Write(relay[(at + 1)..]);
            writer.Write(relay[..at]);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A link as the scripts read it: MessagePack [join queue, join key, index].</summary>
    private static byte[] LinkBytes(WorkflowLink link)
    {
        var buffer = new ArrayBufferWriter<byte>(32 + link.Join.Length + link.Queue.Length);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(link.Queue);
        writer.Write(link.Join);
        writer.Write(link.Index);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] MemberIdsBytes(IReadOnlyList<string> ids)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + (ids.Count * 24));
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(ids.Count);
        foreach (var id in ids)
        {
            writer.Write(id);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The follow-ups a script answered after its own values (shared.lua): four values each.</summary>
    private static List<Followup> Followups(RedisResult[] all, int from)
    {
        var list = new List<Followup>((all.Length - from) / 4);
        for (var i = from; i + 3 < all.Length; i += 4)
        {
            list.Add(new Followup((long)all[i], (string)all[i + 1]!, (string)all[i + 2]!, (byte[])all[i + 3]!));
        }

        return list;
    }

    /// <summary>
    /// Does what a script left to its caller: delivers outbox entries of <paramref name="queue"/>
    /// to their joins (one deliver.lua call per join queue), removing each from the outbox only
    /// after its delivery answered; cancels the members not started of joins that failed.
    /// Errors are left to the sweep (<see cref="DeliverLeftoversAsync"/>), which tries again.
    /// </summary>
    private async Task FollowUpAsync(string queue, List<Followup> followups)
    {
        if (followups.Count == 0 || SkipFollowUps)
        {
            return;
        }

        try
        {
            await DoFollowUpsAsync(queue, followups).ConfigureAwait(false);
        }
        catch
        {
            // Entries may be left in the queue's outbox: the next recovery looks at it.
            _lookAgain.TryAdd(queue, 0);
            throw;
        }
    }

    private async Task DoFollowUpsAsync(string queue, List<Followup> followups)
    {
        var cancels = followups.Where(f => f.Tag == "x").SelectMany(f => ReadIds(f.Data)).ToList();
        foreach (var byJoin in followups.Where(f => f.Tag == "o").GroupBy(f => JoinQueueOf(f.Data), StringComparer.Ordinal))
        {
            var entries = byJoin.ToList();
            var next = await DeliverAsync(byJoin.Key, [.. entries.Select(e => e.Data)]).ConfigureAwait(false);
            await Transient.Run(_db.HashDeleteAsync(OutboxKey(queue), [.. entries.Select(e => (RedisValue)e.Seq)])).ConfigureAwait(false);
            await FollowOnAsync(byJoin.Key, next, cancels).ConfigureAwait(false);
        }

        await CancelNotStartedAsync(cancels).ConfigureAwait(false);
    }

    /// <summary>Delivers entries (outbox entries, as deliver.lua reads them) to their joins in <paramref name="joinQueue"/>; returns what the deliveries left to do.</summary>
    private async Task<List<Followup>> DeliverAsync(string joinQueue, IReadOnlyList<byte[]> entries)
    {
        var args = Args(_time.GetUtcNow(), entries.Count);
        foreach (var entry in entries)
        {
            args.Add(entry);
        }

        var all = (RedisResult[])(await RunAsync(StoreScript.Deliver, [SeqKey(joinQueue)], args).ConfigureAwait(false))!;
        return Followups(all, entries.Count);
    }

    /// <summary>What deliveries to joins of <paramref name="joinQueue"/> left: the outbox entries their successors' ends left there, driven now; the members to cancel, added to <paramref name="cancels"/>.</summary>
    private async Task FollowOnAsync(string joinQueue, List<Followup> next, List<string> cancels)
    {
        cancels.AddRange(next.Where(f => f.Tag == "x").SelectMany(f => ReadIds(f.Data)));
        await FollowUpAsync(joinQueue, [.. next.Where(f => f.Tag == "o")]).ConfigureAwait(false);
    }

    /// <summary>Cancels the members of failed joins that have not started.</summary>
    private async Task CancelNotStartedAsync(List<string> ids)
    {
        foreach (var id in ids)
        {
            if (TaskIds.TrySplit(id, out var memberQueue, out var own))
            {
                await CancelAsync(memberQueue, own, startedToo: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Recovery's look at workflow joins whose sender did not seal them in time
    /// (recover.lua names those past their time): the sender stopped, or lost its connection, part
    /// way through a send. Each member that has not reached its join and is not stored (no task
    /// under its id, and no join that would make it) is delivered to the join as failed, so that
    /// the workflow goes on as after any failed member (its group fails and cancels the members not
    /// started; an <c>AllSettled</c> callback runs with that outcome) instead of waiting for it
    /// forever. A join leaves the sending set once its members are accounted for (the deliveries
    /// first: a look cut short is made again, and a second delivery counts nothing). A join whose
    /// look fails (a key of another type, members that do not read) is looked at again a minute
    /// later, after the others; the first failure is thrown once every join was looked at.
    /// </summary>
    private async Task CheckSendsAsync(IReadOnlyList<(string Queue, string Join)> joins)
    {
        if (joins.Count == 0)
        {
            return;
        }

        var cancels = new List<string>();
        Exception? failure = null;
        foreach (var (queue, key) in joins)
        {
            try
            {
                await CheckSendAsync(queue, key, cancels).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever the join holds (a key of another type, members that do not read): the
                // others are looked at first, and this one again a minute later.
                failure ??= ex;
                try
                {
                    var later = (_time.GetUtcNow() + CheckAgainAfter).ToUnixTimeMilliseconds();
                    await _db.SortedSetAddAsync(SendingKey(queue), key, later, SortedSetWhen.Exists).ConfigureAwait(false);
                }
                catch (Exception again) when (again is RedisException or TimeoutException)
                {
                    // Still due: the next look takes it again.
                }
            }
        }

        await CancelNotStartedAsync(cancels).ConfigureAwait(false);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task CheckSendAsync(string queue, string key, List<string> cancels)
    {
        RedisKey joinKey = $"{_prefix}:{{{queue}}}:join:{key}";
        var head = await Transient.Run(_db.HashGetAsync(joinKey, ["state", "members"])).ConfigureAwait(false);
        if (head[0] == "open" && !head[1].IsNull)
        {
            var ids = ReadIds((byte[])head[1]!);
            var fields = ids.Select((_, i) => (RedisValue)$"o:{i}").ToArray();
            var arrived = await Transient.Run(_db.HashGetAsync(joinKey, fields)).ConfigureAwait(false);
            var waiting = Enumerable.Range(0, ids.Count).Where(i => arrived[i].IsNull).ToList();
            var split = ids.Select(id => id.LastIndexOf('@') is var at and >= 0 ? (Own: id[..at], Queue: id[(at + 1)..]) : (Own: id, Queue: queue)).ToList();
            if (waiting.Count > 0)
            {
                // A member that ended may have left its delivery in its queue's outbox (its worker
                // stopped in between, and its record may be gone since): those addressed to this
                // join are delivered first.
                await DeliverTowardsAsync(queue, key, [.. waiting.Select(i => split[i].Queue).Distinct(StringComparer.Ordinal)]).ConfigureAwait(false);
                arrived = await Transient.Run(_db.HashGetAsync(joinKey, fields)).ConfigureAwait(false);
                waiting = [.. waiting.Where(i => arrived[i].IsNull)];
            }

            // Stored: a task under the member's id, or the join that makes it (a later step). A
            // key of another type there counts as stored: the member's own calls name it.
            var stored = waiting.Select(i => _db.KeyExistsAsync([$"{_prefix}:{{{split[i].Queue}}}:id:{split[i].Own}", $"{_prefix}:{{{split[i].Queue}}}:join:{split[i].Own}"])).ToList();
            await Transient.Run(Task.WhenAll(stored)).ConfigureAwait(false);
            var never = waiting.Where((_, k) => stored[k].Result == 0).ToList();
            if (never.Count > 0)
            {
                var entries = never.Select(i => NeverStoredEntry(queue, key, i, ids[i])).ToList();
                await FollowOnAsync(queue, await DeliverAsync(queue, entries).ConfigureAwait(false), cancels).ConfigureAwait(false);
            }
        }

        await Transient.Run(_db.SortedSetRemoveAsync(SendingKey(queue), key)).ConfigureAwait(false);
    }

    /// <summary>
    /// Delivers the entries of <paramref name="memberQueues"/>' outboxes addressed to join
    /// <paramref name="key"/> of <paramref name="queue"/> (each outbox read whole, up to
    /// <see cref="OutboxReadLimit"/> entries): entries for other joins, which may be refused until
    /// a key of theirs is mended, are left to the leftover sweep.
    /// </summary>
    private async Task DeliverTowardsAsync(string queue, string key, IReadOnlyList<string> memberQueues)
    {
        foreach (var memberQueue in memberQueues)
        {
            var entries = await ReadOutboxAsync(memberQueue, OutboxReadLimit, entry => IsAddressedTo(entry, queue, key)).ConfigureAwait(false);
            await FollowUpAsync(memberQueue, entries).ConfigureAwait(false);
        }
    }

    /// <summary>The entries of <paramref name="queue"/>'s outbox that <paramref name="wanted"/> takes, reading at most <paramref name="limit"/> entries.</summary>
    private async Task<List<Followup>> ReadOutboxAsync(string queue, int limit, Func<byte[], bool> wanted)
    {
        var entries = new List<Followup>();
        var read = 0;
        try
        {
            await foreach (var field in _db.HashScanAsync(OutboxKey(queue), pageSize: LeftoverBatch).ConfigureAwait(false))
            {
                var entry = (byte[])field.Value!;
                if (wanted(entry))
                {
                    entries.Add(new Followup(0, "o", field.Name!, entry));
                }

                if (++read >= limit)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (Transient.IsTransient(ex))
        {
            throw Transient.ToTransportException(ex);
        }

        return entries;
    }

    /// <summary>Whether an outbox entry (MessagePack [join queue, join key, ...]) goes to join <paramref name="key"/> of <paramref name="queue"/>; an entry that cannot be read goes to none.</summary>
    private static bool IsAddressedTo(byte[] entry, string queue, string key)
    {
        try
        {
            var reader = new MessagePackReader(entry);
            return reader.ReadArrayHeader() >= 2 && reader.ReadString() == queue && reader.ReadString() == key;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            return false;
        }
    }

    /// <summary>The outbox entry of a member never stored: member <paramref name="index"/> of join <paramref name="key"/> failed.</summary>
    private byte[] NeverStoredEntry(string queue, string key, int index, string id)
    {
        var error = StoreRecord.WriteError(new TaskError(
            "TypedTasks.TaskNeverStored",
            $"Task {id} of the workflow was not stored: the program that sent the workflow stopped, or lost its connection, before it wrote this task (looked at once the time its sender had to store it had passed).",
            null));
        var buffer = new ArrayBufferWriter<byte>(64 + key.Length + queue.Length + id.Length + error.Length);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(queue);
        writer.Write(key);
        writer.Write(index);
        writer.Write("f");
        writer.WriteString(error); // a str of the error's bytes: the scripts' MessagePack reads no bin
        writer.Write(id);
        writer.Write(string.Empty);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private RedisKey SendingKey(string queue) => $"{_prefix}:{{{queue}}}:sending";

    private static string JoinQueueOf(byte[] entry)
    {
        var reader = new MessagePackReader(entry);
        _ = reader.ReadArrayHeader();
        return reader.ReadString() ?? string.Empty;
    }

    private static List<string> ReadIds(byte[] bytes)
    {
        var reader = new MessagePackReader(bytes);
        var n = reader.ReadArrayHeader();
        var ids = new List<string>(n);
        for (var i = 0; i < n; i++)
        {
            ids.Add(reader.ReadString() ?? string.Empty);
        }

        return ids;
    }

    /// <summary>What a script asks its caller to do for request <c>Item</c>: "o" deliver outbox entry Data (field Seq), "x" cancel the member ids in Data.</summary>
    private readonly record struct Followup(long Item, string Tag, string Seq, byte[] Data);
}

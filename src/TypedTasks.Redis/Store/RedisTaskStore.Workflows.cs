using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Store;

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

    /// <summary>
    /// How long after a workflow is sent every task that starts it must be stored: recovery then
    /// ends each one that is not as failed (<see cref="CheckSendsAsync"/>). Long past any send that
    /// is still going on; settable for tests.
    /// </summary>
    internal TimeSpan SendGrace { get; set; } = TimeSpan.FromMinutes(5);

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
                var args = Args(now, (14 * list.Count) + 3);
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
                    args.Add(join.MemberIds.Count(id => IsStart(id, wf.Key)));
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

            var entries = new List<Followup>();
            try
            {
                await foreach (var field in _db.HashScanAsync(OutboxKey(queue), pageSize: LeftoverBatch).ConfigureAwait(false))
                {
                    entries.Add(new Followup(0, "o", field.Name!, (byte[])field.Value!));
                    if (entries.Count >= LeftoverBatch)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (Transient.IsTransient(ex))
            {
                throw Transient.ToTransportException(ex);
            }

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
    /// Recovery's look at joins of <paramref name="queue"/> whose starts were all due to be stored
    /// (recover.lua names them): a start that neither ended nor is stored (its sender stopped
    /// between the calls that store a workflow's starts, or it was deleted before it ended) is
    /// delivered to its join as failed, so that the workflow goes on as after any failed member
    /// (its group fails and cancels the members not started; an <c>AllSettled</c> callback runs
    /// with that outcome) instead of waiting for it forever. A join leaves the sending set once its
    /// starts are all accounted for (the deliveries first: a check cut short is made again, and a
    /// second delivery counts nothing), or when it is no longer open.
    /// </summary>
    private async Task CheckSendsAsync(string queue, IReadOnlyList<string> keys)
    {
        var cancels = new List<string>();
        foreach (var key in keys)
        {
            RedisKey joinKey = $"{_prefix}:{{{queue}}}:join:{key}";
            var head = await Transient.Run(_db.HashGetAsync(joinKey, ["state", "wf", "members"])).ConfigureAwait(false);
            if (head[0] == "open" && !head[2].IsNull)
            {
                var wf = (string?)head[1] ?? string.Empty;
                var ids = ReadIds((byte[])head[2]!);
                var starts = Enumerable.Range(0, ids.Count).Where(i => IsStart(ids[i], wf)).ToList();
                var ended = starts.Count == 0 ? [] : await Transient.Run(_db.HashGetAsync(joinKey, [.. starts.Select(i => (RedisValue)$"o:{i}")])).ConfigureAwait(false);
                var unended = starts.Where((_, k) => ended[k].IsNull).ToList();
                var never = new List<int>();
                foreach (var byQueue in unended.GroupBy(i => ids[i][(ids[i].LastIndexOf('@') + 1)..], StringComparer.Ordinal))
                {
                    foreach (var part in byQueue.Chunk(SweepLimit))
                    {
                        var stored = await Transient.Run(_db.StringGetAsync([.. part.Select(i => (RedisKey)$"{_prefix}:{{{byQueue.Key}}}:id:{ids[i][..ids[i].LastIndexOf('@')]}")])).ConfigureAwait(false);
                        never.AddRange(part.Where((_, k) => stored[k].IsNull));
                    }
                }

                if (never.Count > 0)
                {
                    var entries = never.Select(i => NeverStoredEntry(queue, key, i, ids[i])).ToList();
                    await FollowOnAsync(queue, await DeliverAsync(queue, entries).ConfigureAwait(false), cancels).ConfigureAwait(false);
                }
            }

            await Transient.Run(_db.SortedSetRemoveAsync(SendingKey(queue), key)).ConfigureAwait(false);
        }

        await CancelNotStartedAsync(cancels).ConfigureAwait(false);
    }

    /// <summary>The outbox entry of a start that was never stored: member <paramref name="index"/> of join <paramref name="key"/> failed.</summary>
    private byte[] NeverStoredEntry(string queue, string key, int index, string id)
    {
        var error = StoreRecord.WriteError(new TaskError(
            "TypedTasks.TaskNeverStored",
            $"Task {id} of the workflow was not stored {SendGrace.TotalSeconds:0} s after the workflow was sent: the program that sent it stopped, or lost its connection, before it wrote this task, or the task was deleted before it ended.",
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

    /// <summary>Whether member <paramref name="id"/> is one of workflow <paramref name="workflowId"/>'s starts (sent by its sender, not made by a join): &lt;wf&gt;.0 or &lt;wf&gt;.0.&lt;i&gt;.</summary>
    private static bool IsStart(string id, string workflowId)
    {
        var at = id.LastIndexOf('@');
        var own = at < 0 ? id.AsSpan() : id.AsSpan(0, at);
        var n = workflowId.Length;
        return own.Length >= n + 2 && own.StartsWith(workflowId, StringComparison.Ordinal) && own[n] == '.' && own[n + 1] == '0'
            && (own.Length == n + 2 || own[n + 2] == '.');
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

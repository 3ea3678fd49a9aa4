using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Serialization;
using TypedTasks.Store;
using Xunit;

namespace TypedTasks.Testing.StoreConformance;

/// <summary>
/// Workflow joins (<see cref="IWorkflowStore"/>): the members are in one queue and the join in
/// another, so that on a Cluster every delivery crosses slots.
/// </summary>
public abstract partial class TaskStoreConformance
{
    private const string NextQueue = "conformance-next";

    [Fact]
    public async Task A_join_makes_its_successor_once_with_the_members_result_in_place_of_its_open_first_argument()
    {
        var store = await StoreAsync();
        var (join, successorId) = await JoinAsync(store, "wfa", JoinMode.One, 1);
        var member = (await store.EnqueueManyAsync(Queue, [Member("wfa", 0)]))[0];
        Assert.Equal(TaskState.Pending, (await store.GetAsync(successorId))!.State);

        var lease = await FetchOneAsync(store, Queue);
        Assert.Equal(member, lease.Id);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(25))));

        var made = await store.GetStoredAsync(successorId);
        Assert.NotNull(made);
        Assert.Equal(TaskState.Pending, made.Info.State);
        var envelope = TaskEnvelope.Read(made.Envelope);
        Assert.Equal("conformance.next", envelope.TaskName);
        Assert.Equal((25, "cm"), MessagePackSerializer.Deserialize<(int, string)>(envelope.Arguments));
        Assert.Equal(1, (await store.CountAsync(NextQueue)).Pending);
        var state = await ((IWorkflowStore)store).GetJoinAsync(NextQueue, join.Key);
        Assert.Equal(("done", 1, 1), (state!.State, state.Members, state.Arrived));
        Assert.Equal(0, await ((IWorkflowStore)store).DeliverLeftoversAsync([Queue]));
    }

    [Fact]
    public async Task A_successor_sent_with_a_delay_or_an_eta_is_made_scheduled_and_a_negative_delay_is_refused()
    {
        var store = await StoreAsync();
        var (_, later) = await JoinAsync(store, "wfl", JoinMode.One, 1, j => j with { Delay = TimeSpan.FromHours(1) });
        var (_, eta) = await JoinAsync(store, "wfe", JoinMode.One, 1, j => j with { NotBefore = DateTimeOffset.UtcNow.AddHours(2) });
        var (_, past) = await JoinAsync(store, "wfp", JoinMode.One, 1, j => j with { NotBefore = DateTimeOffset.UtcNow.AddHours(-1) });
        await store.EnqueueManyAsync(Queue, [Member("wfl", 0), Member("wfe", 0), Member("wfp", 0)]);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await store.CompleteAsync(await FetchOneAsync(store, Queue), TaskCompletion.Succeeded(MessagePackSerializer.Serialize(i))));
        }

        // Made when its member ended, then waiting its delay (or until its eta) as any scheduled task does.
        Assert.Equal((TaskState.Scheduled, TaskState.Scheduled, TaskState.Pending),
            ((await store.GetAsync(later))!.State, (await store.GetAsync(eta))!.State, (await store.GetAsync(past))!.State));
        var due = (await store.ListAsync(NextQueue, TaskState.Scheduled, 0, 10)).ToDictionary(t => t.Info.Id, t => t.DueAt);
        Assert.InRange(due[later]!.Value, DateTimeOffset.UtcNow.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.InRange(due[eta]!.Value, DateTimeOffset.UtcNow.AddMinutes(119), DateTimeOffset.UtcNow.AddMinutes(121));

        var bad = new WorkflowJoin(NextQueue, "wfn.1", "wfn", 0, JoinMode.One, ReadOnlyMemory<byte>.Empty, 0, 0, "x", null, []) { Delay = TimeSpan.FromSeconds(-1) };
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ((IWorkflowStore)store).CreateJoinsAsync([bad]).AsTask());
        Assert.Contains("must not be negative. Nothing was stored.", refused.Message, StringComparison.Ordinal);
        Assert.Null(await ((IWorkflowStore)store).GetJoinAsync(NextQueue, "wfn.1"));
    }

    [Fact]
    public async Task A_join_relays_each_outcome_once_to_the_joins_of_a_fan_out_in_another_queue()
    {
        var store = await StoreAsync();

        // Two steps that start with the same member's result: one in NextQueue, one in the member's queue.
        var (_, first) = await JoinAsync(store, "wfr", JoinMode.One, 1, j => j with { Relays = ["wfr.2@" + Queue] });
        var second = new WorkflowJoin(Queue, "wfr.2", "wfr", 1, JoinMode.One, FanEnvelope(out var at), at, 0, "x", null, ["wfr.0.0@" + Queue]);
        await ((IWorkflowStore)store).CreateJoinsAsync([second]);
        await store.EnqueueManyAsync(Queue, [Member("wfr", 0)]);
        var lease = await FetchOneAsync(store, Queue);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(7))));

        var made = await store.GetStoredAsync(second.Key + "@" + Queue);
        Assert.Equal(TaskState.Pending, (await store.GetAsync(first))!.State);
        Assert.Equal(TaskState.Pending, made!.Info.State);
        Assert.Equal((7, "cm"), MessagePackSerializer.Deserialize<(int, string)>(TaskEnvelope.Read(made.Envelope).Arguments));
        Assert.Equal(("done", 1), ((await ((IWorkflowStore)store).GetJoinAsync(Queue, "wfr.2"))!.State, (await ((IWorkflowStore)store).GetJoinAsync(Queue, "wfr.2"))!.Arrived));

        Assert.Equal(0, await ((IWorkflowStore)store).DeliverLeftoversAsync([Queue, NextQueue]));

        var step = await FetchOneAsync(store, Queue);
        Assert.Equal("wfr.2@" + Queue, step.Id);
        Assert.True(await store.CompleteAsync(step, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(0))));

        // A member that failed fails both steps; run again after a requeue, it counts nothing anywhere.
        var (_, third) = await JoinAsync(store, "wft", JoinMode.One, 1, j => j with { Relays = ["wft.2@" + Queue] });
        await ((IWorkflowStore)store).CreateJoinsAsync([second with { Key = "wft.2", WorkflowId = "wft", MemberIds = ["wft.0.0@" + Queue] }]);
        var failing = (await store.EnqueueManyAsync(Queue, [Member("wft", 0)]))[0];
        Assert.True(await store.CompleteAsync(await FetchOneAsync(store, Queue), TaskCompletion.Failed(new TaskError("Boom", "it failed", null))));
        Assert.Equal((TaskState.Canceled, TaskState.Canceled), ((await store.GetAsync(third))!.State, (await store.GetAsync("wft.2@" + Queue))!.State));
        Assert.Equal(1, await store.RequeueAsync([failing]));
        Assert.True(await store.CompleteAsync(await FetchOneAsync(store, Queue), TaskCompletion.Succeeded(MessagePackSerializer.Serialize(8))));
        Assert.Equal((TaskState.Canceled, TaskState.Canceled), ((await store.GetAsync(third))!.State, (await store.GetAsync("wft.2@" + Queue))!.State));
        Assert.Equal((1L, 0L), ((await store.CountAsync(NextQueue)).Pending, (await store.CountAsync(Queue)).Pending));
        Assert.Equal(0, await ((IWorkflowStore)store).DeliverLeftoversAsync([Queue, NextQueue]));

        var bad = new WorkflowJoin(NextQueue, "wfs.1", "wfs", 0, JoinMode.One, ReadOnlyMemory<byte>.Empty, 0, 0, "x", null, []) { Relays = ["no-queue"] };
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => ((IWorkflowStore)store).CreateJoinsAsync([bad]).AsTask());
        Assert.Contains("relays to 'no-queue', which is not a step id (key@queue). Nothing was stored.", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_that_ends_again_after_a_requeue_counts_once_and_AllSettled_gets_every_outcome()
    {
        var store = await StoreAsync();
        var (join, successorId, ids) = await JoinWithMembersAsync(store, "wfb", JoinMode.Settled, 2);

        var first = await FetchOneAsync(store, Queue);
        Assert.True(await store.CompleteAsync(first, TaskCompletion.Failed(new TaskError("Boom", "first run failed", null))));
        Assert.Equal(1, await store.RequeueAsync([ids[0]]));
        var again = await FetchOneAsync(store, Queue);
        Assert.Equal(ids[1], again.Id);
        var rerun = await FetchOneAsync(store, Queue);
        Assert.Equal(ids[0], rerun.Id);
        Assert.True(await store.CompleteAsync(rerun, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(1))));

        var state = await ((IWorkflowStore)store).GetJoinAsync(NextQueue, join.Key);
        Assert.Equal(("open", 1), (state!.State, state.Arrived));
        Assert.Equal(TaskState.Failed, state.Outcomes[0]);

        Assert.True(await store.CompleteAsync(again, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(2))));
        var made = TaskEnvelope.Read((await store.GetStoredAsync(successorId))!.Envelope);
        var reader = new MessagePackReader(made.Arguments);
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(3, reader.ReadArrayHeader());
        Assert.Equal((int)TaskState.Failed, reader.ReadInt32());
        Assert.True(reader.TryReadNil());
        reader.ReadArrayHeader();
        Assert.Equal("Boom", reader.ReadString());
        Assert.Equal("first run failed", reader.ReadString());
        reader.Skip();
        Assert.Equal(3, reader.ReadArrayHeader());
        Assert.Equal((int)TaskState.Succeeded, reader.ReadInt32());
        Assert.Equal(2, reader.ReadInt32());
    }

    [Fact]
    public async Task A_failed_member_ends_the_join_at_once_cancels_the_members_not_started_and_the_successor_names_it()
    {
        var store = await StoreAsync();
        var (join, successorId, ids) = await JoinWithMembersAsync(store, "wfc", JoinMode.All, 3);
        var lease = await FetchOneAsync(store, Queue);
        var waiting = store.WaitAsync(successorId, Bound).AsTask();
        Assert.False(waiting.IsCompleted);

        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(new TaskError("Boom", "member 0 failed", null))));

        var ended = await waiting;
        Assert.Equal(TaskState.Canceled, ended.State);
        Assert.Equal((ids[0], "conformance.task", "member 0 failed"), (ended.Error!.FailedTaskId, ended.Error.FailedTaskName, ended.Error.Message));
        Assert.Equal(TaskState.Canceled, (await store.GetAsync(ids[1]))!.State);
        Assert.Equal(TaskState.Canceled, (await store.GetAsync(ids[2]))!.State);
        var state = await ((IWorkflowStore)store).GetJoinAsync(NextQueue, join.Key);
        Assert.Equal(("failed", 3), (state!.State, state.Arrived));
    }

    [Theory]
    [InlineData(JoinMode.All, "failed")]
    [InlineData(JoinMode.Settled, "open")]
    public async Task A_member_deleted_before_it_ended_counts_as_canceled_and_its_join_does_not_wait_for_it(JoinMode mode, string joinState)
    {
        // Input: a join of 3 members, the second deleted while pending (a tool's delete).
        // Expected: it counts as canceled: an All join fails at once (its successor ends Canceled
        // and names the member; the other members are canceled); a Settled join counts it and goes on.
        var store = await StoreAsync();
        var key = "wfd" + (int)mode;
        var (join, successorId, ids) = await JoinWithMembersAsync(store, key, mode, 3);

        Assert.Equal(1, await store.DeleteAsync([ids[1]]));

        Assert.Null(await store.GetAsync(ids[1]));
        var state = await ((IWorkflowStore)store).GetJoinAsync(NextQueue, join.Key);
        Assert.Equal((joinState, TaskState.Canceled), (state!.State, state.Outcomes[1]));
        if (mode == JoinMode.All)
        {
            var ended = await store.WaitAsync(successorId, Bound);
            Assert.Equal((TaskState.Canceled, ids[1]), (ended.State, ended.Error!.FailedTaskId));
            await Poll.UntilAsync(async () => (await store.GetAsync(ids[0]))!.State == TaskState.Canceled, "the other members are canceled", Bound);
        }
        else
        {
            Assert.Equal(TaskState.Pending, (await store.GetAsync(ids[0]))!.State);
        }
    }

    [Theory]
    [InlineData(JoinMode.All, "failed")]
    [InlineData(JoinMode.Settled, "done")]
    public async Task Members_purged_before_they_ended_count_as_canceled_and_their_join_does_not_wait_for_them(JoinMode mode, string joinState)
    {
        // Input: a join of 3 members, all pending, then their queue purged (a tool's purge).
        // Expected: the 3 are deleted and each counts as canceled, as a deleted member does: an All
        // join fails (its successor ends Canceled naming a member); a Settled join makes its
        // successor with every outcome canceled.
        var store = await StoreAsync();
        var key = "wfp" + (int)mode;
        var (join, successorId, ids) = await JoinWithMembersAsync(store, key, mode, 3);

        Assert.Equal(3, await store.PurgeAsync(Queue, 10));

        foreach (var id in ids)
        {
            Assert.Null(await store.GetAsync(id));
        }

        var state = await ((IWorkflowStore)store).GetJoinAsync(NextQueue, join.Key);
        Assert.Equal(joinState, state!.State);
        if (mode == JoinMode.All)
        {
            var ended = await store.WaitAsync(successorId, Bound);
            Assert.Equal(TaskState.Canceled, ended.State);
            Assert.Contains(ended.Error!.FailedTaskId, ids);
        }
        else
        {
            Assert.Equal([TaskState.Canceled, TaskState.Canceled, TaskState.Canceled], state.Outcomes.OrderBy(o => o.Key).Select(o => o.Value));
            Assert.Equal(TaskState.Pending, (await store.GetAsync(successorId))!.State);
        }
    }

    [Fact]
    public async Task A_join_is_refused_with_a_clear_error_when_its_envelope_has_no_open_argument_and_nothing_is_stored()
    {
        var store = await StoreAsync();
        var bad = new WorkflowJoin(NextQueue, "wfd.1", "wfd", 1, JoinMode.One, Envelope(), 1, 0, "x", null, ["wfd.0@" + Queue]);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => ((IWorkflowStore)store).CreateJoinsAsync([bad]).AsTask());
        Assert.Contains("no nil at byte 1", refused.Message, StringComparison.Ordinal);
        Assert.Null(await ((IWorkflowStore)store).GetJoinAsync(NextQueue, "wfd.1"));

        var unlinked = new TaskToEnqueue(Envelope(), 0) { Link = new WorkflowLink(NextQueue, "wfd.1", 0) };
        await Assert.ThrowsAsync<ArgumentException>(() => store.EnqueueAsync(Queue, unlinked).AsTask());
        Assert.Equal(0, (await store.CountAsync(Queue)).Pending);
    }

    [Fact]
    public async Task A_join_without_an_open_argument_makes_its_successor_as_written_and_a_member_without_a_result_counts_as_a_nil()
    {
        // Input: a join whose successor takes no result (ArgumentAt NoArgument: every argument bound)
        // waiting for 2 members that succeed with no result (a task without one stores none).
        // Expected: the successor's envelope is exactly the one written; the joins that pass results
        // (one, all, every outcome) read each such member as a nil.
        var store = await StoreAsync();
        var written = Envelope("conformance.fixed");
        var fixedJoin = new WorkflowJoin(NextQueue, "wfv.1", "wfv", 2, JoinMode.All, written, WorkflowJoin.NoArgument, 0, "x", null, ["wfv.0.0@" + Queue, "wfv.0.1@" + Queue]);
        await ((IWorkflowStore)store).CreateJoinsAsync([fixedJoin]);
        var (_, one) = await JoinAsync(store, "wfo", JoinMode.One, 1);
        var (_, settled) = await JoinAsync(store, "wfs", JoinMode.Settled, 1);
        var group = new WorkflowJoin(NextQueue, "wfg.1", "wfg", 2, JoinMode.All, ReadOnlyMemory<byte>.Empty, 0, 0, "conformance.group", null, ["wfg.0.0@" + Queue, "wfg.0.1@" + Queue]);
        await ((IWorkflowStore)store).CreateJoinsAsync([group]);
        await store.EnqueueManyAsync(Queue, [Member("wfv", 0), Member("wfv", 1), Member("wfo", 0), Member("wfs", 0), Member("wfg", 0), Member("wfg", 1)]);
        for (var i = 0; i < 6; i++)
        {
            Assert.True(await store.CompleteAsync(await FetchOneAsync(store, Queue), TaskCompletion.Succeeded(ReadOnlyMemory<byte>.Empty)));
        }

        var made = await store.GetStoredAsync("wfv.1@" + NextQueue);
        Assert.Equal(TaskState.Pending, made!.Info.State);
        Assert.Equal(written, made.Envelope.ToArray());
        Assert.Equal(("done", 2), ((await ((IWorkflowStore)store).GetJoinAsync(NextQueue, "wfv.1"))!.State, (await ((IWorkflowStore)store).GetJoinAsync(NextQueue, "wfv.1"))!.Arrived));

        Assert.Equal((null, "cm"), MessagePackSerializer.Deserialize<(int?, string)>(TaskEnvelope.Read((await store.GetStoredAsync(one))!.Envelope).Arguments));
        var outcomes = new MessagePackReader(TaskEnvelope.Read((await store.GetStoredAsync(settled))!.Envelope).Arguments);
        Assert.Equal(2, outcomes.ReadArrayHeader());
        Assert.Equal(1, outcomes.ReadArrayHeader());
        Assert.Equal(3, outcomes.ReadArrayHeader());
        Assert.Equal((int)TaskState.Succeeded, outcomes.ReadInt32());
        Assert.True(outcomes.TryReadNil());
        Assert.True(outcomes.TryReadNil());
        var result = await store.GetAsync("wfg.1@" + NextQueue);
        Assert.Equal(TaskState.Succeeded, result!.State);
        Assert.Equal(new int?[] { null, null }, MessagePackSerializer.Deserialize<int?[]>(result.Result));
        Assert.Equal(0, await ((IWorkflowStore)store).DeliverLeftoversAsync([Queue]));
    }

    /// <summary>A join in <see cref="NextQueue"/> whose successor is <c>conformance.next(nil, "cm")</c>.</summary>
    private static async Task<(WorkflowJoin Join, string SuccessorId)> JoinAsync(ITaskStore store, string wf, JoinMode mode, int members, Func<WorkflowJoin, WorkflowJoin>? shape = null)
    {
        var envelope = FanEnvelope(out var at);
        var join = new WorkflowJoin(NextQueue, wf + ".1", wf, members, mode, envelope, at, 0, "conformance.group", null,
            Enumerable.Range(0, members).Select(i => $"{wf}.0.{i}@{Queue}").ToList());
        join = shape?.Invoke(join) ?? join;
        await ((IWorkflowStore)store).CreateJoinsAsync([join]);
        return (join, join.Key + "@" + NextQueue);
    }

    /// <summary>A join (<see cref="JoinAsync"/>) and its <paramref name="members"/> members, all enqueued pending in one call.</summary>
    private static async Task<(WorkflowJoin Join, string SuccessorId, IReadOnlyList<string> Ids)> JoinWithMembersAsync(ITaskStore store, string wf, JoinMode mode, int members)
    {
        var (join, successorId) = await JoinAsync(store, wf, mode, members);
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, members).Select(i => Member(wf, i))]);
        return (join, successorId, ids);
    }

    /// <summary>The envelope of <c>conformance.next(nil, "cm")</c> and the offset of its open argument.</summary>
    private static byte[] FanEnvelope(out int at)
    {
        var envelope = TaskEnvelope.Write(new EnvelopeHeader("conformance.next", DateTimeOffset.UtcNow, null, null, null), default(OpenArguments), TaskSerializer.Options);
        at = envelope.Length - OpenArguments.Length + 1;
        return envelope;
    }

    private static TaskToEnqueue Member(string wf, int index)
        => new(Envelope(), 0, null, $"{wf}.0.{index}") { Link = new WorkflowLink(NextQueue, wf + ".1", index) };

    /// <summary>[nil, "cm"]: a step's arguments with the first one open.</summary>
    private readonly struct OpenArguments : ITaskArguments
    {
        public const int Length = 5;

        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(2);
            writer.WriteNil();
            writer.Write("cm");
        }
    }
}

using System;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Scheduling;
using TypedTasks.Store;
using TypedTasks.Testing.StoreConformance;
using TypedTasks.Tests.Support;
using TypedTasks.Workflows;

namespace TypedTasks.Tests;

/// <summary>
/// Rate and concurrency limits on the client side: the descriptor the generator emits, the limit
/// keys, the sets refused before anything is sent, and every send path handing the store its limits.
/// </summary>
public sealed class LimitTaskTests
{
    private static readonly TaskLimit[] SendAcme = [new("tests.limits.send|tenant=\"acme\"", 2), new("tests.limits.send", 10, TimeSpan.FromSeconds(1))];

    [Fact]
    public void The_generated_descriptor_carries_the_limits_and_an_unlimited_one_none()
    {
        var send = Tasks.LimitedSend.Descriptor;
        Assert.Equal((2, 0, 10, TimeSpan.FromSeconds(1), (int?)null), (send.MaxConcurrency, send.ConcurrencyKey, send.RateCount, send.RatePer, send.RateLimitKey));
        var bill = Tasks.LimitedBill.Descriptor;
        Assert.Equal((0, (int?)null, 500, TimeSpan.FromHours(1), 0), (bill.MaxConcurrency, bill.ConcurrencyKey, bill.RateCount, bill.RatePer, bill.RateLimitKey));
        var step = Tasks.LimitedStep.Descriptor;
        Assert.Equal((3, 0, 20, TimeSpan.FromMinutes(1), 1), (step.MaxConcurrency, step.ConcurrencyKey, step.RateCount, step.RatePer, step.RateLimitKey));

        var add = Tasks.Add.Descriptor;
        Assert.Equal((0, (int?)null, 0, (TimeSpan?)null, (int?)null), (add.MaxConcurrency, add.ConcurrencyKey, add.RateCount, add.RatePer, add.RateLimitKey));
        Assert.Null(For(Tasks.Add.Call(1, 2)));
    }

    [Fact]
    public void A_limit_without_a_key_counts_under_the_task_name_and_one_with_a_key_under_the_arguments_JSON()
    {
        Assert.Equal([new TaskLimit("tests.limits.single", 1)], For(Tasks.LimitedSingle.Call("whatever")));
        Assert.Equal(SendAcme, For(Tasks.LimitedSend.Call("acme", 1)));
        Assert.Equal([new TaskLimit("tests.limits.bill|customer=42", 500, TimeSpan.FromHours(1))], For(Tasks.LimitedBill.Call(42, 7L)));

        // Only the key argument counts: another amount is the same key, another customer another.
        Assert.Equal(For(Tasks.LimitedBill.Call(42, 7L)), For(Tasks.LimitedBill.Call(42, 99L)));
        Assert.NotEqual(For(Tasks.LimitedBill.Call(42, 7L)), For(Tasks.LimitedBill.Call(43, 7L)));
    }

    [Fact]
    public void A_value_whose_JSON_is_longer_than_200_characters_is_keyed_by_a_hash_of_its_bytes()
    {
        // 198 characters and two quotes: kept as it is.
        var kept = new string('k', 198);
        Assert.Equal($"tests.limits.send|tenant=\"{kept}\"", For(Tasks.LimitedSend.Call(kept, 1))![0].Key);

        var tenant = new string('x', 250);
        var hash = Convert.ToHexStringLower(SHA256.HashData(MessagePackSerializer.Serialize(tenant)).AsSpan(0, 16));
        Assert.Equal("tests.limits.send|tenant=#" + hash, For(Tasks.LimitedSend.Call(tenant, 1))![0].Key);
        Assert.NotEqual(For(Tasks.LimitedSend.Call(tenant, 1))![0].Key, For(Tasks.LimitedSend.Call(tenant + "y", 1))![0].Key);
    }

    [Fact]
    public void Limits_a_store_would_refuse_are_refused_when_the_message_is_made_naming_the_problem()
    {
        // A rate window with a count of 0.
        var zero = Assert.Throws<ArgumentException>(() => TaskLimits.For(Descriptor(d => d.RatePer = TimeSpan.FromSeconds(1)), default(NoArguments)));
        Assert.Contains("a limit of 0 for 'limits.hand'; a limit is at least 1. Nothing was sent.", zero.Message, StringComparison.Ordinal);

        // A window of 0.
        var window = Assert.Throws<ArgumentException>(() => TaskLimits.For(Descriptor(d => { d.RateCount = 5; d.RatePer = TimeSpan.Zero; }), default(NoArguments)));
        Assert.Contains("rate window of 00:00:00", window.Message, StringComparison.Ordinal);

        // A count with no window.
        var noWindow = Assert.Throws<ArgumentException>(() => TaskLimits.For(Descriptor(d => d.RateCount = 5), default(NoArguments)));
        Assert.Contains("no window", noWindow.Message, StringComparison.Ordinal);

        // A key longer than a store takes: a long parameter name and a 200-character value.
        var longName = new string('p', 400);
        var tooLong = Assert.Throws<ArgumentException>(() => For(Tasks.LimitedSend.Call(new string('v', 198), 1), new TaskDescriptor("limits.hand", "limits", 0, null, null, null, Tasks.LimitedSend.Descriptor.Invoker)
        {
            ParameterNames = [longName, "n"],
            MaxConcurrency = 1,
            ConcurrencyKey = 0,
        }));
        Assert.Contains($"a limit key of {"limits.hand|".Length + longName.Length + 201} characters; a limit key has 1 to 512", tooLong.Message, StringComparison.Ordinal);

        // Two limits of one kind, or three: the store's own check.
        Assert.Equal(
            "has two limits of one kind; a task has at most one concurrency limit and one rate limit",
            new TaskToEnqueue(new byte[] { 1 }, 0) { Limits = [new TaskLimit("a", 1), new TaskLimit("b", 2)] }.LimitsProblem);
        Assert.StartsWith("has 3 limits", new TaskToEnqueue(new byte[] { 1 }, 0) { Limits = [new TaskLimit("a", 1), new TaskLimit("b", 2, TimeSpan.FromSeconds(1)), new TaskLimit("c", 3)] }.LimitsProblem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_enqueue_with_limits_a_store_would_refuse_sends_nothing()
    {
        var store = new InMemoryTaskStore();
        var client = new TaskClient(store);
        var bad = Descriptor(d => d.MaxConcurrency = -1);
        var single = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync(bad, default(NoArguments), null, CancellationToken.None));
        Assert.Contains("a limit of -1", single.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueManyAsync(bad, [default(NoArguments), default(NoArguments)], null, CancellationToken.None));
        Assert.Equal(0, (await store.CountAsync("limits")).Pending);

        // A join whose successor has such limits is refused before anything is stored.
        var join = new WorkflowJoin("limits", "wf.1", "wf", 0, JoinMode.One, ReadOnlyMemory<byte>.Empty, 0, 0, "r", null, []) { Limits = [new TaskLimit("x", 0)] };
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateJoinsAsync([join]));
        Assert.Contains("its successor has a limit of 0 for 'x'", refused.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetJoinAsync("limits", "wf.1"));
    }

    [Fact]
    public async Task An_enqueue_a_bulk_enqueue_and_a_call_hand_the_store_their_limits()
    {
        await using var store = new RecordingStore(new InMemoryTaskStore());
        var client = new TaskClient(store);
        var send = Tasks.LimitedSend.WithClient(client);

        await send.EnqueueAsync("acme", 1);
        await send.EnqueueManyAsync([("acme", 2), ("globex", 3)]);
        await send.Call("acme", 4).EnqueueAsync();
        await Tasks.Add.WithClient(client).EnqueueAsync(1, 2);

        var given = store.Enqueued.ToList();
        Assert.Equal(5, given.Count);
        Assert.Equal(SendAcme, given[0].Task.Limits);
        Assert.Equal(SendAcme, given[1].Task.Limits);
        Assert.Equal("tests.limits.send|tenant=\"globex\"", given[2].Task.Limits![0].Key);
        Assert.Equal(SendAcme, given[3].Task.Limits);
        Assert.Null(given[4].Task.Limits);
        Assert.Equal(4, (await store.CountAsync(LimitTasks.Queue)).Pending);
    }

    [Fact]
    public async Task Workflow_members_carry_their_limits_and_a_step_its_own_keyed_by_the_previous_result()
    {
        await using var store = new RecordingStore(new InMemoryTaskStore());
        var client = new TaskClient(store);
        var send = Tasks.LimitedSend.WithClient(client);

        await TaskGroup.Of(send.Call("acme", 1), send.Call("globex", 2)).Then(Tasks.LimitedTotal.Bind("eu")).EnqueueAsync();

        var members = store.Enqueued.ToList();
        Assert.Equal(2, members.Count);
        Assert.Equal(SendAcme, members[0].Task.Limits);
        Assert.Equal("tests.limits.send|tenant=\"globex\"", members[1].Task.Limits![0].Key);
        var join = Assert.Single(store.Joins);
        Assert.Equal([new TaskLimit("tests.limits.total|values=(previous result)", 1)], join.Limits);

        // A chain of one call and a step: the call is the join's one member; a group's own result has no limits.
        await send.Call("initech", 3).Then(Tasks.LimitedStep.Bind("us")).EnqueueAsync();
        Assert.Equal("tests.limits.send|tenant=\"initech\"", store.Enqueued.Last().Task.Limits![0].Key);
        Assert.Equal(
            [new TaskLimit("tests.limits.step|input=(previous result)", 3), new TaskLimit("tests.limits.step|region=\"us\"", 20, TimeSpan.FromMinutes(1))],
            store.Joins.Last().Limits);
        await TaskGroup.Of(send.Call("a", 1)).EnqueueAsync();
        Assert.Null(store.Joins.Last().Limits);
    }

    [Fact]
    public async Task A_schedule_fire_hands_the_store_the_limits_of_its_call()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 4, 10, 0, 0, TimeSpan.Zero));
        await using var store = new RecordingStore(new InMemoryTaskStore(timeProvider: clock));
        var client = new TaskClient(store, clock);
        await new TaskSchedules(store, clock).UpsertAsync("bill-42", Tasks.LimitedBill.WithClient(client).Call(42, 7L), "* * * * *");
        clock.Advance(TimeSpan.FromMinutes(1));

        await new Firers(store, [clock], [Tasks.LimitedBill.Descriptor], LimitTasks.Queue).RoundAsync();

        var fired = Assert.Single(store.Enqueued);
        Assert.Equal([new TaskLimit("tests.limits.bill|customer=42", 500, TimeSpan.FromHours(1))], fired.Task.Limits);
    }

    /// <summary>The limits of an enqueue of <paramref name="call"/> (of <paramref name="task"/> when given).</summary>
    private static System.Collections.Generic.IReadOnlyList<TaskLimit>? For(TaskCall call, TaskDescriptor? task = null)
        => TaskLimits.For(task ?? call.Task, new Encoded(call.Arguments));

    private static TaskDescriptor Descriptor(Action<DescriptorLimits> limits)
    {
        var set = new DescriptorLimits();
        limits(set);
        return new TaskDescriptor("limits.hand", "limits", 0, null, null, null, Tasks.LimitedSingle.Descriptor.Invoker)
        {
            ParameterNames = [],
            RateCount = set.RateCount,
            RatePer = set.RatePer,
            MaxConcurrency = set.MaxConcurrency,
        };
    }

    private sealed class DescriptorLimits
    {
        public int RateCount { get; set; }

        public TimeSpan? RatePer { get; set; }

        public int MaxConcurrency { get; set; }
    }

    private readonly struct Encoded(ReadOnlyMemory<byte> arguments) : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteRaw(arguments.Span);
    }

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }
}

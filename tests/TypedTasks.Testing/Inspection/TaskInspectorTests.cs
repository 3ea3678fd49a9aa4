using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.Inspection;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Transport;
using Xunit;

namespace TypedTasks.Testing.Inspection;

/// <summary>
/// The inspector on a real store: what it reads and what it does, through <see cref="ITaskStore"/>
/// only. A store's test class derives from this and says how to make a fresh, empty store.
/// </summary>
public abstract class TaskInspectorTests : IAsyncLifetime
{
    private const string Queue = "inspected";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly List<ITaskStore> _stores = [];

    static TaskInspectorTests() => TaskCatalog.Register(KnownTasks.Instance);

    /// <summary>A new store that holds nothing.</summary>
    protected abstract Task<ITaskStore> CreateStoreAsync();

    /// <summary>Runs after every store of the test is disposed.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await CleanUpAsync();
    }

    [Fact]
    public async Task Queues_show_the_count_of_every_state_and_the_live_workers_that_serve_them()
    {
        var (store, inspector) = await NewAsync();
        await FailAsync(store, 1);
        await store.EnqueueManyAsync(Queue, [new(Add(1, 2), 0), new(Add(3, 4), 0)]);
        await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(0, 0), 0, DateTimeOffset.UtcNow.AddHours(1)));
        await store.EnqueueAsync("lonely", new TaskToEnqueue(Add(7, 8), 0));
        await store.HeartbeatAsync(new WorkerDescription([Queue, "idle"], 4, new WorkerStatus()), []);

        var queues = await inspector.GetQueuesAsync();
        Assert.Equal(["idle", Queue, "lonely"], queues.Select(q => q.Name));
        var inspected = queues.Single(q => q.Name == Queue);
        Assert.Equal(new StateCounts(Pending: 2, Scheduled: 1, Started: 0, Retrying: 0, Succeeded: 0, Failed: 1, Canceled: 0, Expired: 0), inspected.Counts);
        var worker = Assert.Single(inspected.Workers);
        Assert.False(inspected.Unserved);
        Assert.Equal([worker], queues.Single(q => q.Name == "idle").Workers);
        Assert.False(queues.Single(q => q.Name == "idle").Unserved);
        var lonely = queues.Single(q => q.Name == "lonely");
        Assert.Empty(lonely.Workers);
        Assert.True(lonely.Unserved);

        var one = await inspector.GetQueueAsync(Queue);
        Assert.Equal(inspected.Counts, one!.Counts);
        Assert.Equal(inspected.Workers, one.Workers);
        Assert.Null(await inspector.GetQueueAsync("never-used"));
    }

    [Fact]
    public async Task Workers_show_what_they_published_and_the_age_of_their_heartbeat()
    {
        var (store, _) = await NewAsync();
        var time = new FakeTimeProvider();
        var inspector = TaskInspectorFactory.Create(store, time);
        await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0));
        var lease = await FetchOneAsync(store);
        await store.HeartbeatAsync(new WorkerDescription([Queue], 8, new WorkerStatus(), ["inspect.add"]), [lease]);

        var seen = Assert.Single(await inspector.GetWorkersAsync());
        time.SetUtcNow(seen.LastSeen.AddSeconds(7));
        var worker = Assert.Single(await inspector.GetWorkersAsync());
        Assert.Equal([Queue], worker.Queues);
        Assert.Equal(8, worker.Concurrency);
        Assert.Equal([lease.Id], worker.Running);
        Assert.Equal(["inspect.add"], worker.Tasks!);
        Assert.Equal(Environment.ProcessId, worker.Pid);
        Assert.Equal(TimeSpan.FromSeconds(7), worker.HeartbeatAge);

        // A heartbeat written by a machine whose clock runs ahead is not from the future.
        var behind = TaskInspectorFactory.Create(store, new FakeTimeProvider(seen.LastSeen.AddSeconds(-3)));
        Assert.Equal(TimeSpan.Zero, Assert.Single(await behind.GetWorkersAsync()).HeartbeatAge);
    }

    [Fact]
    public async Task A_page_of_tasks_comes_in_the_stores_order_with_priority_due_time_and_error()
    {
        var (store, inspector) = await NewAsync();
        var failed = await FailAsync(store, 1);
        var low = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 1));
        var high = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(2, 2), 7));
        var due = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
        var later = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(3, 3), 0, due));

        var pending = await inspector.GetTasksAsync(Queue, TaskState.Pending, 0, 10);
        Assert.Equal([high, low], pending.Select(t => t.Id));
        Assert.Equal([7, 1], pending.Select(t => t.Priority));
        Assert.All(pending, t => Assert.Equal(("inspect.add", TaskState.Pending, 0, Queue), (t.TaskName, t.State, t.Attempt, t.Queue)));
        Assert.Equal([low], (await inspector.GetTasksAsync(Queue, TaskState.Pending, 1, 10)).Select(t => t.Id));
        Assert.Equal(due, Assert.Single(await inspector.GetTasksAsync(Queue, TaskState.Scheduled, 0, 10)).DueAt);

        var row = Assert.Single(await inspector.GetTasksAsync(Queue, TaskState.Failed, 0, 10));
        Assert.Equal((failed[0], 1, "System.InvalidOperationException", "broken 0"), (row.Id, row.Attempt, row.ErrorType, row.ErrorMessage));
        Assert.Empty(await inspector.GetTasksAsync(Queue, TaskState.Failed, 1, 10));
        Assert.NotNull(later);
    }

    [Fact]
    public async Task Page_bounds_a_bad_queue_and_a_bad_state_are_refused_before_the_store_is_read()
    {
        var (_, inspector) = await NewAsync();
        foreach (var count in new[] { 0, -1, InspectorModel.MaxPageSize + 1 })
        {
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => inspector.GetTasksAsync(Queue, TaskState.Pending, 0, count));
            Assert.Equal("count", error.ParamName);
            Assert.StartsWith("A page holds 1 to 1000 tasks", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal("offset", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => inspector.GetTasksAsync(Queue, TaskState.Pending, -1, 10))).ParamName);
        Assert.Equal("state", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => inspector.GetTasksAsync(Queue, (TaskState)42, 0, 10))).ParamName);
        Assert.Empty(await inspector.GetTasksAsync(Queue, TaskState.Pending, 0, InspectorModel.MaxPageSize));

        var badQueue = await Assert.ThrowsAsync<ArgumentException>(() => inspector.GetTasksAsync("a b", TaskState.Pending, 0, 10));
        Assert.StartsWith("'a b' is not a valid queue name", badQueue.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => inspector.PurgeAsync("{x}"));
        await Assert.ThrowsAsync<ArgumentException>(() => inspector.GetTaskAsync(""));
        Assert.Equal(InspectorModel.QueueNameProblem("a b"), badQueue.Message.Split(" (Parameter")[0]);
        Assert.Null(InspectorModel.QueueNameProblem(Queue));
    }

    [Fact]
    public async Task A_known_tasks_arguments_are_shown_by_name_and_an_unknown_tasks_by_position()
    {
        var (store, inspector) = await NewAsync();
        var eta = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());
        var headers = new Dictionary<string, string> { ["traceparent"] = "00-abc-def-01" };
        var known = await store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("inspect.add", new Ints(2, 3), eta: eta, headers: headers), 4, eta));
        var unknown = await store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("elsewhere.add", new Ints(2, 3)), 0));
        var olderGenerator = await store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("inspect.legacy", new Ints(9)), 0));
        var otherShape = await store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("inspect.add", new Ints(1, 2, 3)), 0));

        var details = await inspector.GetTaskAsync(known);
        Assert.NotNull(details);
        Assert.Equal("""{"x":2,"y":3}""", details.Arguments);
        Assert.True(details.ArgumentsNamed);
        Assert.Equal((TaskState.Scheduled, 4, Queue, eta, eta), (details.State, details.Priority, details.Queue, details.Eta, details.DueAt));
        Assert.Equal("00-abc-def-01", details.Headers["traceparent"]);
        Assert.NotNull(details.EnqueuedAt);
        Assert.Null(details.Worker);
        Assert.Null(details.EnvelopeProblem);
        Assert.True(details.EnvelopeSize > 0);

        // Not in this process's catalog, made by an older generator, or sent with another count: positions.
        Assert.Equal(("[2,3]", false), await ArgumentsAsync(inspector, unknown));
        Assert.Equal(("[9]", false), await ArgumentsAsync(inspector, olderGenerator));
        Assert.Equal(("[1,2,3]", false), await ArgumentsAsync(inspector, otherShape));
    }

    [Fact]
    public async Task Arguments_nested_past_the_bound_are_shown_to_it_with_a_marker_also_by_name()
    {
        var (store, inspector) = await NewAsync();
        var deep = new byte[10_001];
        deep.AsSpan(0, 10_000).Fill(0x91);
        deep[^1] = 0x90;
        var id = await store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("inspect.add", new Raw([0x92, 0x01, .. deep])), 0));

        var details = await inspector.GetTaskAsync(id);
        Assert.True(details!.ArgumentsNamed);
        var arguments = JsonDocument.Parse(details.Arguments!, new JsonDocumentOptions { MaxDepth = 128 }).RootElement;
        Assert.Equal(1, arguments.GetProperty("x").GetInt32());
        Assert.Contains(MessagePackJson.DeepMarker, arguments.GetProperty("y").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_succeeded_tasks_result_a_failed_tasks_error_and_an_unreadable_message_are_shown()
    {
        var (store, inspector) = await NewAsync();
        await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(20, 22), 0));
        var lease = await FetchOneAsync(store);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(MessagePackSerializer.Serialize(new Dictionary<string, int> { ["sum"] = 42 }))));
        var succeeded = await inspector.GetTaskAsync(lease.Id);
        Assert.Equal((TaskState.Succeeded, 1, """{"sum":42}"""), (succeeded!.State, succeeded.Attempt, succeeded.Result));
        Assert.NotNull(succeeded.Worker);
        Assert.Null(succeeded.Arguments); // the store drops the message of a succeeded task

        var failed = (await FailAsync(store, 1))[0];
        var details = await inspector.GetTaskAsync(failed);
        Assert.Equal((TaskState.Failed, "System.InvalidOperationException", "broken 0", "at Somewhere.Broken()"), (details!.State, details.ErrorType, details.ErrorMessage, details.ErrorStackTrace));
        Assert.Null(details.Result);
        Assert.Equal("""{"x":0,"y":0}""", details.Arguments);

        var garbage = await store.EnqueueAsync(Queue, new TaskToEnqueue(new byte[] { 0xc1, 1, 2 }, 0));
        var unreadable = await inspector.GetTaskAsync(garbage);
        Assert.Equal(("?", 3, (string?)null), (unreadable!.TaskName, unreadable.EnvelopeSize, unreadable.Arguments));
        Assert.StartsWith("not a TypedTasks envelope", unreadable.EnvelopeProblem, StringComparison.Ordinal);

        Assert.Null(await inspector.GetTaskAsync("no-such-task"));
    }

    [Fact]
    public async Task Retry_all_failed_requeues_every_failed_task_in_batches_and_reports_the_running_total()
    {
        var (store, inspector) = await NewAsync();
        var failed = await FailAsync(store, 1_203);
        var waiting = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0));
        var reports = new List<int>();

        var retried = await inspector.RetryAllFailedAsync(Queue, new Synchronous(reports.Add));

        Assert.Equal(1_203, retried);
        Assert.Equal([500, 1_000, 1_203], reports);
        var counts = await store.CountAsync(Queue);
        Assert.Equal((1_204L, 0L), (counts.Pending, counts.Failed));
        var again = await store.GetAsync(failed[17]);
        Assert.Equal((TaskState.Pending, 0, null), (again!.State, again.Attempt, again.Error));
        Assert.Equal(waiting, (await inspector.GetTasksAsync(Queue, TaskState.Pending, 0, 1)).Single().Id);
        Assert.Equal(0, await inspector.RetryAllFailedAsync(Queue));
    }

    [Fact]
    public async Task Retry_runs_a_failed_task_again_and_refuses_one_in_any_other_state()
    {
        var (store, inspector) = await NewAsync();
        var failed = (await FailAsync(store, 1))[0];
        var pending = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0));
        var scheduled = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0, DateTimeOffset.UtcNow.AddHours(1)));

        Assert.False(await inspector.RetryAsync(pending));
        Assert.False(await inspector.RetryAsync(scheduled));
        Assert.False(await inspector.RetryAsync("no-such-task"));
        Assert.True(await inspector.RetryAsync(failed));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(failed))!.State);
        Assert.False(await inspector.RetryAsync(failed));

        // Requeue also takes a scheduled task: it runs now.
        Assert.True(await inspector.RequeueAsync(scheduled));
        Assert.Equal(TaskState.Pending, (await store.GetAsync(scheduled))!.State);
        Assert.False(await inspector.RequeueAsync(pending));
    }

    [Fact]
    public async Task Cancel_ends_a_waiting_task_once_and_delete_removes_it_but_not_a_running_one()
    {
        var (store, inspector) = await NewAsync();
        var waiting = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0));
        Assert.True(await inspector.CancelAsync(waiting));
        Assert.Equal(TaskState.Canceled, (await inspector.GetTaskAsync(waiting))!.State);
        Assert.False(await inspector.CancelAsync(waiting));
        Assert.False(await inspector.CancelAsync("no-such-task"));

        await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(2, 2), 0));
        var running = await FetchOneAsync(store);
        Assert.False(await inspector.DeleteAsync(running.Id));
        Assert.Equal(TaskState.Started, (await inspector.GetTaskAsync(running.Id))!.State);

        Assert.True(await inspector.DeleteAsync(waiting));
        Assert.Null(await inspector.GetTaskAsync(waiting));
        Assert.False(await inspector.DeleteAsync(waiting));
    }

    [Fact]
    public async Task Delete_all_empties_one_state_and_refuses_running_tasks_with_the_reason()
    {
        var (store, inspector) = await NewAsync();
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 620).Select(_ => new TaskToEnqueue(Add(1, 1), 0, DateTimeOffset.UtcNow.AddHours(1)))]);
        var pending = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0));
        var reports = new List<int>();

        Assert.Equal(620, await inspector.DeleteAllAsync(Queue, TaskState.Scheduled, new Synchronous(reports.Add)));
        Assert.Equal([500, 620], reports);
        Assert.Null(await store.GetAsync(ids[300]));
        Assert.Equal((0L, 1L), ((await store.CountAsync(Queue)).Scheduled, (await store.CountAsync(Queue)).Pending));
        Assert.Equal(pending, (await inspector.GetTasksAsync(Queue, TaskState.Pending, 0, 10)).Single().Id);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => inspector.DeleteAllAsync(Queue, TaskState.Started));
        Assert.Equal("state", refused.ParamName);
        Assert.StartsWith("Running tasks cannot be deleted", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_deletes_the_pending_tasks_in_batches_and_leaves_scheduled_ones()
    {
        var (store, inspector) = await NewAsync();
        await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 1_050).Select(i => new TaskToEnqueue(Add(i, i), i % 3))]);
        var scheduled = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 1), 0, DateTimeOffset.UtcNow.AddHours(1)));
        var reports = new List<int>();

        Assert.Equal(1_050, await inspector.PurgeAsync(Queue, new Synchronous(reports.Add)));
        Assert.Equal([500, 1_000, 1_050], reports);
        var counts = await store.CountAsync(Queue);
        Assert.Equal((0L, 1L), (counts.Pending, counts.Scheduled));
        Assert.Equal(TaskState.Scheduled, (await store.GetAsync(scheduled))!.State);
        Assert.Equal(0, await inspector.PurgeAsync(Queue));
    }

    // ---- Limits and locks ----

    [Fact]
    public async Task Limits_in_use_their_held_tasks_and_unique_locks_are_shown_per_queue()
    {
        var (store, inspector) = await NewAsync();
        var perKey = "inspect.add|x=1";
        var hour = TimeSpan.FromHours(1);
        var held = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 3).Select(_ => new TaskToEnqueue(Add(1, 2), 0) { Limits = [new TaskLimit(perKey, 1)] })]);
        var rated = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, 2).Select(_ => new TaskToEnqueue(Add(3, 4), 0) { Limits = [new TaskLimit("inspect.add", 1, hour)] })]);
        var before = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var locked = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(5, 5), 0) { UniqueKey = "inspect.add:abc", UniqueFor = TimeSpan.FromMinutes(10) });
        var after = DateTimeOffset.UtcNow.AddMilliseconds(1);
        using (var limit = new CancellationTokenSource(Bound))
        {
            Assert.Equal([held[0], rated[0], locked], (await store.FetchAsync([Queue], 10, limit.Token)).Select(l => l.Id));
        }

        var limits = await inspector.GetLimitsAsync(Queue);
        Assert.Equal(
            [
                new LimitSummary { Queue = Queue, Key = "inspect.add", Kind = LimitKind.Rate, Count = 1, Per = hour, Active = 1, Held = 1 },
                new LimitSummary { Queue = Queue, Key = perKey, Kind = LimitKind.Concurrency, Count = 1, Per = null, Active = 1, Held = 2 },
            ],
            limits);
        Assert.Equal(("inspect.add", null), (limits[0].Task, limits[0].PerKey));
        Assert.Equal(("inspect.add", "x=1"), (limits[1].Task, limits[1].PerKey));

        var waiting = await inspector.GetHeldTasksAsync(Queue, perKey, LimitKind.Concurrency, 0, 10);
        Assert.Equal([held[1], held[2]], waiting.Select(t => t.Id));
        Assert.All(waiting, t => Assert.Equal(("inspect.add", TaskState.Pending, Queue), (t.TaskName, t.State, t.Queue)));
        Assert.Equal([held[2]], (await inspector.GetHeldTasksAsync(Queue, perKey, LimitKind.Concurrency, 1, 1)).Select(t => t.Id));
        Assert.Equal([rated[1]], (await inspector.GetHeldTasksAsync(Queue, "inspect.add", LimitKind.Rate, 0, 10)).Select(t => t.Id));
        Assert.Empty(await inspector.GetHeldTasksAsync(Queue, "inspect.add", LimitKind.Concurrency, 0, 10));
        Assert.Empty(await inspector.GetHeldTasksAsync(Queue, perKey, LimitKind.Rate, 0, 10));

        var lockRow = Assert.Single(await inspector.GetLocksAsync(Queue));
        Assert.Equal((Queue, "inspect.add:abc", locked), (lockRow.Queue, lockRow.Key, lockRow.TaskId));
        Assert.InRange(lockRow.ExpiresAt, before.AddMinutes(10), after.AddMinutes(10));

        Assert.Empty(await inspector.GetLimitsAsync("lonely"));
        Assert.Empty(await inspector.GetLocksAsync("lonely"));
        Assert.Empty(await inspector.GetHeldTasksAsync("lonely", perKey, LimitKind.Concurrency, 0, 10));
    }

    [Fact]
    public async Task Limit_and_lock_queries_refuse_a_bad_queue_key_kind_or_page_before_the_store_is_read()
    {
        var (_, inspector) = await NewAsync();
        foreach (var call in new Func<Task>[]
        {
            () => inspector.GetLimitsAsync("a b"),
            () => inspector.GetLocksAsync("a b"),
            () => inspector.GetHeldTasksAsync("a b", "inspect.add", LimitKind.Concurrency, 0, 10),
        })
        {
            var badQueue = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Equal(InspectorModel.QueueNameProblem("a b"), badQueue.Message.Split(" (Parameter")[0]);
            Assert.Equal("queue", badQueue.ParamName);
        }

        foreach (var count in new[] { 0, -1, InspectorModel.MaxPageSize + 1 })
        {
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => inspector.GetHeldTasksAsync(Queue, "inspect.add", LimitKind.Rate, 0, count));
            Assert.Equal("count", error.ParamName);
            Assert.StartsWith("A page holds 1 to 1000 tasks", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal("offset", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => inspector.GetHeldTasksAsync(Queue, "inspect.add", LimitKind.Rate, -1, 10))).ParamName);
        var kind = await Assert.ThrowsAsync<ArgumentException>(() => inspector.GetHeldTasksAsync(Queue, "inspect.add", (LimitKind)7, 0, 10));
        Assert.Equal("kind", kind.ParamName);
        Assert.StartsWith("7 is not a limit kind.", kind.Message, StringComparison.Ordinal);
        Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(() => inspector.GetHeldTasksAsync(Queue, "", LimitKind.Rate, 0, 10))).ParamName);
        Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentNullException>(() => inspector.GetHeldTasksAsync(Queue, null!, LimitKind.Rate, 0, 10))).ParamName);
    }

    // ---- Schedules ----

    [Fact]
    public async Task Schedules_are_listed_with_their_last_runs_state_and_can_be_paused_resumed_and_triggered()
    {
        var (store, inspector) = await NewAsync();
        Assert.Empty(await inspector.GetSchedulesAsync());
        var task = StoreConformance.Firers.Task("inspect.tick", Queue);
        var client = new TaskClient(store);
        await new Scheduling.TaskSchedules(store, TimeProvider.System).UpsertAsync("tick", TaskCall.Bind(task, Scheduling.ScheduleDefinition.NoArguments, client), "0 3 * * *");
        var schedules = (IScheduleStore)store;
        var next = (await schedules.GetScheduleAsync("tick"))!.NextFireAt!.Value;
        var run = await store.EnqueueAsync(Queue, new TaskToEnqueue(Add(1, 2), 0));
        Assert.True(await schedules.AdvanceAsync("tick", 1, next, next.AddDays(1), next, run));

        var listed = Assert.Single(await inspector.GetSchedulesAsync());
        Assert.Equal(("tick", "inspect.tick", Queue, "0 3 * * *", "UTC"), (listed.Name, listed.TaskName, listed.Queue, listed.Cron, listed.TimeZone));
        Assert.Equal((next.AddDays(1), next, run, TaskState.Pending), (listed.NextFireAt!.Value, listed.LastFireAt!.Value, listed.LastTaskId, listed.LastState!.Value));

        Assert.True(await inspector.PauseScheduleAsync("tick"));
        Assert.True(Assert.Single(await inspector.GetSchedulesAsync()).Paused);
        Assert.True(await inspector.ResumeScheduleAsync("tick"));
        Assert.True(await inspector.TriggerScheduleAsync("tick"));
        var after = Assert.Single(await inspector.GetSchedulesAsync());
        Assert.Equal((false, true), (after.Paused, after.TriggerPending));
        Assert.False(await inspector.PauseScheduleAsync("missing"));
        Assert.False(await inspector.ResumeScheduleAsync("missing"));
        Assert.False(await inspector.TriggerScheduleAsync("missing"));
    }

    // ---- Helpers ----

    private async Task<(ITaskStore Store, ITaskInspector Inspector)> NewAsync()
    {
        var store = await CreateStoreAsync();
        _stores.Add(store);
        return (store, TaskInspectorFactory.Create(store));
    }

    private static async Task<(string? Json, bool Named)> ArgumentsAsync(ITaskInspector inspector, string id)
    {
        var details = await inspector.GetTaskAsync(id);
        return (details!.Arguments, details.ArgumentsNamed);
    }

    private static byte[] Add(int x, int y) => Envelope("inspect.add", new Ints(x, y));

    private static byte[] Envelope<TArgs>(string taskName, TArgs arguments, DateTimeOffset? eta = null, IReadOnlyDictionary<string, string>? headers = null)
        where TArgs : ITaskArguments
        => TaskEnvelope.Write(
            new EnvelopeHeader(taskName, DateTimeOffset.UtcNow, eta, null, headers),
            arguments,
            TaskSerializer.Options);

    /// <summary>Enqueues <paramref name="count"/> tasks and fails each on its first run; returns their ids.</summary>
    private static async Task<IReadOnlyList<string>> FailAsync(ITaskStore store, int count)
    {
        var ids = await store.EnqueueManyAsync(Queue, [.. Enumerable.Range(0, count).Select(_ => new TaskToEnqueue(Add(0, 0), 0))]);
        var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        using var limit = new CancellationTokenSource(Bound);
        var failed = 0;
        while (failed < count)
        {
            foreach (var lease in await store.FetchAsync([Queue], 100, limit.Token))
            {
                var error = new TaskError("System.InvalidOperationException", $"broken {index[lease.Id]}", "at Somewhere.Broken()");
                Assert.True(await store.CompleteAsync(lease, TaskCompletion.Failed(error)));
                failed++;
            }
        }

        return ids;
    }

    private static async Task<TaskLease> FetchOneAsync(ITaskStore store)
    {
        using var limit = new CancellationTokenSource(Bound);
        while (true)
        {
            var leases = await store.FetchAsync([Queue], 1, limit.Token);
            if (leases.Count > 0)
            {
                return Assert.Single(leases);
            }
        }
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class Synchronous(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    private readonly struct Ints(params int[] values) : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(values.Length);
            foreach (var value in values)
            {
                writer.Write(value);
            }
        }
    }

    /// <summary>Arguments written byte for byte as given.</summary>
    private readonly struct Raw(byte[] bytes) : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteRaw(bytes);
    }

    /// <summary>Tasks this process knows by name, as a task assembly's registry declares them.</summary>
    private sealed class KnownTasks : ITaskRegistry
    {
        public static KnownTasks Instance { get; } = new();

        public IReadOnlyList<TaskDescriptor> Tasks { get; } =
        [
            new("inspect.add", Queue, 0, null, null, null, NotRun) { ParameterNames = ["x", "y"] },
            new("inspect.legacy", Queue, 0, null, null, null, NotRun),
        ];

        private static ValueTask<ReadOnlyMemory<byte>> NotRun(TaskInvocation invocation) => throw new InvalidOperationException("Inspection tests never run a task.");
    }
}

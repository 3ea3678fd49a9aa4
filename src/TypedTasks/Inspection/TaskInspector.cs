using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks.Inspection;

/// <summary>
/// <see cref="ITaskInspector"/> over any <see cref="ITaskStore"/>: it reads through the store's
/// per-state indexes and counts only, and decodes messages in this process, naming arguments
/// with the descriptors of <see cref="TaskCatalog"/>.
/// </summary>
internal sealed class TaskInspector(ITaskStore store, TimeProvider? timeProvider = null) : ITaskInspector
{
    /// <summary>How many stages a workflow's view reads at most (one read each).</summary>
    private const int MaxWorkflowStages = 1000;

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private (IReadOnlyList<ITaskRegistry> Registries, Dictionary<string, TaskDescriptor?> Tasks)? _catalog;

    private Scheduling.TaskSchedules Schedules => new(store, _time);

    public Task<IReadOnlyList<Scheduling.ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default)
        => Schedules.ListAsync(cancellationToken);

    public Task<bool> TriggerScheduleAsync(string name, CancellationToken cancellationToken = default)
        => Schedules.TriggerAsync(name, cancellationToken);

    public Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken = default)
        => Schedules.PauseAsync(name, cancellationToken);

    public Task<bool> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default)
        => Schedules.ResumeAsync(name, cancellationToken);

    public async Task<IReadOnlyList<QueueSummary>> GetQueuesAsync(CancellationToken cancellationToken = default)
    {
        var queues = await store.GetQueuesAsync(cancellationToken).ConfigureAwait(false);
        var workers = await store.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        var counts = await Task.WhenAll(queues.Select(q => store.CountAsync(q, cancellationToken).AsTask())).ConfigureAwait(false);
        return [.. queues.Select((q, i) => Summary(q, counts[i], workers))];
    }

    public async Task<QueueSummary?> GetQueueAsync(string name, CancellationToken cancellationToken = default)
    {
        CheckQueue(name, nameof(name));
        var queues = await store.GetQueuesAsync(cancellationToken).ConfigureAwait(false);
        if (!queues.Contains(name, StringComparer.Ordinal))
        {
            return null;
        }

        var workers = await store.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        return Summary(name, await store.CountAsync(name, cancellationToken).ConfigureAwait(false), workers);
    }

    public async Task<IReadOnlyList<WorkerSummary>> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        var workers = await store.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        return [.. workers.OrderBy(w => w.Id, StringComparer.Ordinal).Select(w => new WorkerSummary
        {
            Id = w.Id,
            Host = w.Host,
            Pid = w.Pid,
            Queues = w.Queues,
            Concurrency = w.Concurrency,
            Running = w.Running,
            Tasks = w.Tasks,
            LastSeen = w.LastSeen,
            // Another machine's clock may run ahead: an age is never negative.
            HeartbeatAge = now > w.LastSeen ? now - w.LastSeen : TimeSpan.Zero,
        })];
    }

    public async Task<IReadOnlyList<TaskSummary>> GetTasksAsync(string queue, TaskState state, long offset, int count, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        CheckState(state);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (count is < 1 or > InspectorModel.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A page holds 1 to {InspectorModel.MaxPageSize} tasks; ask for the next page with a larger offset.");
        }

        var page = await store.ListAsync(queue, state, offset, count, cancellationToken).ConfigureAwait(false);
        return [.. page.Select(t => Summary(t, queue))];
    }

    public async Task<IReadOnlyList<LimitSummary>> GetLimitsAsync(string queue, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        var limits = await store.GetLimitsAsync(queue, InspectorModel.MaxPageSize, cancellationToken).ConfigureAwait(false);
        return [.. limits.Select(l => new LimitSummary
        {
            Queue = queue,
            Key = l.Key,
            Kind = l.Per is null ? LimitKind.Concurrency : LimitKind.Rate,
            Count = l.Count,
            Per = l.Per,
            Active = l.Active,
            Held = l.Held,
        })];
    }

    public async Task<IReadOnlyList<TaskSummary>> GetHeldTasksAsync(string queue, string key, LimitKind kind, long offset, int count, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentException($"{kind} is not a limit kind.", nameof(kind));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (count is < 1 or > InspectorModel.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A page holds 1 to {InspectorModel.MaxPageSize} tasks; ask for the next page with a larger offset.");
        }

        // Only the key and the kind name the limit's waiting tasks; the window's length is not read.
        var limit = new TaskLimit(key, 1, kind == LimitKind.Rate ? TimeSpan.FromSeconds(1) : null);
        var page = await store.ListHeldAsync(queue, limit, offset, count, cancellationToken).ConfigureAwait(false);
        return [.. page.Select(t => Summary(t, queue))];
    }

    public async Task<IReadOnlyList<LockSummary>> GetLocksAsync(string queue, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        var locks = await store.GetLocksAsync(queue, InspectorModel.MaxPageSize, cancellationToken).ConfigureAwait(false);
        return [.. locks.Select(l => new LockSummary { Queue = queue, Key = l.Key, TaskId = l.TaskId, ExpiresAt = l.ExpiresAt })];
    }

    public async Task<TaskDetails?> GetTaskAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var stored = await store.GetStoredAsync(id, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : Details(stored);
    }

    public async Task<WorkflowDetails?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (store is not IWorkflowStore workflows)
        {
            return null;
        }

        // From the step asked about back to the first stages: every member that is itself a step
        // (w.<k>@queue; the calls that start a workflow are w.0…) is walked into, so a chord of
        // chains shows each chain's steps. Listed in the order the joins are numbered: inner first.
        var stages = new List<(long Order, WorkflowStage Stage)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>([id]);
        JoinInfo? last = null;
        while (todo.Count > 0 && stages.Count < MaxWorkflowStages)
        {
            var step = todo.Pop();
            var at = step.LastIndexOf('@');
            if (at <= 0 || !seen.Add(step)
                || await workflows.GetJoinAsync(step[(at + 1)..], step[..at], cancellationToken).ConfigureAwait(false) is not { } join)
            {
                continue;
            }

            last ??= join;
            stages.Add((StepOrder(step[..at]), new WorkflowStage(step, join.State, join.Members, join.Arrived, join.MemberIds, join.Outcomes)));
            foreach (var member in join.MemberIds)
            {
                if (StepOrder(member.LastIndexOf('@') is var m and > 0 ? member[..m] : member) > 0)
                {
                    todo.Push(member);
                }
            }
        }

        if (last is null)
        {
            return null;
        }

        // A made step can still run, fail, expire or be canceled: its join says only that it was made.
        var made = last.State == "done" ? await store.GetAsync(id, cancellationToken).ConfigureAwait(false) : null;
        return new WorkflowDetails(last.WorkflowId, [.. stages.OrderBy(s => s.Order).Select(s => s.Stage)])
        {
            Handle = last.WorkflowHandle,
            StepState = made?.State,
        };
    }

    /// <summary>The number k of a workflow step's key <c>w.k</c>; 0 for anything else (a start <c>w.0…</c>, a task outside a workflow).</summary>
    private static long StepOrder(string key)
    {
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && key.IndexOf('.', dot + 1) < 0 && long.TryParse(key.AsSpan(dot + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k) ? k : 0;
    }

    public async Task<bool> RetryAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);

        // Failed is final: only a requeue or a delete moves it on, so the check cannot go stale in between.
        var info = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return info is { State: TaskState.Failed } && await store.RequeueAsync([id], cancellationToken).ConfigureAwait(false) == 1;
    }

    public Task<int> RetryAllFailedAsync(string queue, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        return InBatchesAsync(queue, TaskState.Failed, store.RequeueAsync, progress, cancellationToken);
    }

    public async Task<bool> RequeueAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return await store.RequeueAsync([id], cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return await store.DeleteAsync([id], cancellationToken).ConfigureAwait(false) == 1;
    }

    public Task<int> DeleteAllAsync(string queue, TaskState state, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        CheckState(state);
        if (state == TaskState.Started)
        {
            throw new ArgumentException("Running tasks cannot be deleted: their workers still hold them. Cancel them instead; once they end Canceled they can be deleted.", nameof(state));
        }

        return InBatchesAsync(queue, state, store.DeleteAsync, progress, cancellationToken);
    }

    public async Task<bool> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return await store.CancelAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> PurgeAsync(string queue, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckQueue(queue, nameof(queue));
        var budget = (await store.CountAsync(queue, cancellationToken).ConfigureAwait(false)).Pending;
        var deleted = 0;
        while (deleted < budget)
        {
            var n = await store.PurgeAsync(queue, (int)Math.Min(InspectorModel.BatchSize, budget - deleted), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            deleted += n;
            progress?.Report(deleted);
        }

        return deleted;
    }

    /// <summary>
    /// Applies <paramref name="act"/> to the tasks of one state, a page at a time. The tasks it
    /// moves or deletes leave the index, so the next page starts where the ones it skipped end;
    /// no more than the state's count at the start is looked at, so the loop ends under any traffic.
    /// </summary>
    private async Task<int> InBatchesAsync(
        string queue,
        TaskState state,
        Func<IReadOnlyList<string>, CancellationToken, ValueTask<int>> act,
        IProgress<int>? progress,
        CancellationToken cancellationToken)
    {
        var budget = (await store.CountAsync(queue, cancellationToken).ConfigureAwait(false))[state];
        long looked = 0, offset = 0;
        var done = 0;
        while (looked < budget)
        {
            var page = await store.ListAsync(queue, state, offset, (int)Math.Min(InspectorModel.BatchSize, budget - looked), cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                break;
            }

            looked += page.Count;
            var n = await act([.. page.Select(t => t.Info.Id)], cancellationToken).ConfigureAwait(false);
            done += n;
            offset += page.Count - n;
            progress?.Report(done);
        }

        return done;
    }

    private static QueueSummary Summary(string queue, StateCounts counts, IReadOnlyList<LiveWorker> workers) => new()
    {
        Name = queue,
        Counts = counts,
        Workers = [.. workers.Where(w => w.Queues.Contains(queue, StringComparer.Ordinal)).Select(w => w.Id).Order(StringComparer.Ordinal)],
    };

    private static TaskSummary Summary(StoredTask task, string queue) => new()
    {
        Id = task.Info.Id,
        TaskName = task.Info.TaskName,
        State = task.Info.State,
        Attempt = task.Info.Attempt,
        UpdatedAt = task.Info.UpdatedAt,
        Queue = task.Info.Queue ?? queue,
        Priority = task.Priority,
        DueAt = task.DueAt,
        ErrorType = task.Info.Error?.Type,
        ErrorMessage = task.Info.Error?.Message,
    };

    private TaskDetails Details(StoredTask task)
    {
        TaskEnvelope? envelope = null;
        string? problem = null;
        if (!task.Envelope.IsEmpty)
        {
            try
            {
                envelope = TaskEnvelope.Read(task.Envelope);
            }
            catch (InvalidEnvelopeException ex)
            {
                problem = ex.Message;
            }
        }

        string? arguments = null;
        var named = false;
        if (envelope is not null)
        {
            arguments = MessagePackJson.ArgumentsToJson(envelope.Arguments, Find(envelope.TaskName)?.ParameterNames, out named);
        }

        var info = task.Info;
        return new TaskDetails
        {
            Id = info.Id,
            TaskName = info.TaskName,
            State = info.State,
            Attempt = info.Attempt,
            UpdatedAt = info.UpdatedAt,
            Queue = info.Queue ?? envelope?.Queue ?? "?",
            Priority = task.Priority,
            DueAt = task.DueAt,
            ErrorType = info.Error?.Type,
            ErrorMessage = info.Error?.Message,
            ErrorStackTrace = info.Error?.StackTrace,
            Arguments = arguments,
            ArgumentsNamed = named,
            EnqueuedAt = envelope?.EnqueuedAt,
            Eta = envelope?.Eta,
            ExpiresAt = envelope?.ExpiresAt,
            Headers = envelope?.Headers ?? new Dictionary<string, string>(),
            Result = info is { State: TaskState.Succeeded, Result.IsEmpty: false } ? MessagePackJson.ToJson(info.Result) : null,
            Worker = info.Worker,
            EnvelopeSize = task.Envelope.Length,
            EnvelopeProblem = problem,
        };
    }

    /// <summary>
    /// The descriptor of a task this process knows, by name. A name two registries declare
    /// differently is not known: its argument names could be either's.
    /// </summary>
    private TaskDescriptor? Find(string taskName)
    {
        var registries = TaskCatalog.Registries;
        var catalog = _catalog;
        if (catalog is null || !ReferenceEquals(catalog.Value.Registries, registries))
        {
            var tasks = new Dictionary<string, TaskDescriptor?>(StringComparer.Ordinal);
            foreach (var task in registries.SelectMany(r => r.Tasks))
            {
                tasks[task.Name] = tasks.TryGetValue(task.Name, out var seen) && !ReferenceEquals(seen, task) ? null : task;
            }

            catalog = (registries, tasks);
            _catalog = catalog;
        }

        return catalog.Value.Tasks.GetValueOrDefault(taskName);
    }

    private static void CheckQueue(string queue, string parameter)
    {
        if (QueueName.Problem(queue) is { } problem)
        {
            throw new ArgumentException(problem, parameter);
        }
    }

    private static void CheckState(TaskState state)
    {
        if (!Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Not a task state: Pending, Scheduled, Started, Retrying, Succeeded, Failed, Canceled or Expired.");
        }
    }

    public async Task<IReadOnlyList<Metrics.TaskMetrics>> GetMetricsAsync(TimeSpan window, CancellationToken cancellationToken = default)
    {
        if (window <= TimeSpan.Zero || window > Metrics.MetricsRetention.CoarseKept)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, $"The metrics window must be more than zero and at most {Metrics.MetricsRetention.CoarseKept.TotalDays} days.");
        }

        var resolution = window <= Metrics.MetricsRetention.FineKept ? Metrics.MetricsRetention.Fine : Metrics.MetricsRetention.Coarse;
        var now = _time.GetUtcNow();
        var to = Metrics.MetricsRetention.Floor(now, resolution) + resolution;
        return await store.GetMetricsAsync(to - window, to, resolution, cancellationToken).ConfigureAwait(false);
    }
}

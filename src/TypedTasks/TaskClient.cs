using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Diagnostics;
using TypedTasks.Serialization;
using TypedTasks.Transport;

namespace TypedTasks;

/// <summary>
/// Sends tasks to a broker and reads their results. Generated proxies use <see cref="Current"/>
/// (the client of the host that started last) unless given one with <c>WithClient</c>.
/// </summary>
public sealed class TaskClient
{
    private static volatile TaskClient? _current;
    private readonly TimeProvider _time;
    private readonly int _maxMessageSize = TaskDefaults.MaxMessageSize;

    /// <summary>Creates a client over a broker and a result backend.</summary>
    public TaskClient(ITaskBroker broker, IResultBackend results, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(results);
        Broker = broker;
        Results = results;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// The client of the host that started last; proxies such as <c>Tasks.Add</c> use it.
    /// Throws when no host with <c>AddTypedTasks</c> has started.
    /// </summary>
    public static TaskClient Current => _current ?? throw new InvalidOperationException(
        "No TypedTasks client is active. Start the host built with AddTypedTasks (host.StartAsync() or RunAsync()) before enqueuing, or give a client explicitly: Tasks.X.WithClient(client).");

    /// <summary>The broker this client sends to.</summary>
    public ITaskBroker Broker { get; }

    /// <summary>The result backend this client reads from.</summary>
    public IResultBackend Results { get; }

    /// <summary>
    /// The largest message, in bytes, that this client sends; a larger one fails at enqueue and
    /// nothing is sent. Default <see cref="TaskDefaults.MaxMessageSize"/>; the host sets it from
    /// <c>TypedTasks:MaxMessageSize</c>.
    /// </summary>
    public int MaxMessageSize
    {
        get => _maxMessageSize;
        init => _maxMessageSize = value >= TypedTasksOptions.MinMessageSize ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"MaxMessageSize must be at least {TypedTasksOptions.MinMessageSize} bytes.");
    }

    /// <summary>Warns when tasks are sent where no live worker will run them; null: no check.</summary>
    internal QueueCoverage? Coverage { get; init; }

    internal static void MakeCurrent(TaskClient client) => _current = client;

    internal static void Retire(TaskClient client) => Interlocked.CompareExchange(ref _current, null, client);

    /// <summary>Enqueues a task with a result; called by generated proxies.</summary>
    /// <remarks>A <see cref="Task{TResult}"/>, not a ValueTask, so that <c>Task.WhenAll</c> over a <c>Select</c> of enqueues compiles.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task<AsyncResult<T>> EnqueueAsync<T, TArgs>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        var id = await SendAsync(task, arguments, options, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<T>(this, id, task.Name);
    }

    /// <summary>Enqueues a task without a result; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task<AsyncResult> EnqueueAsync<TArgs>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        var id = await SendAsync(task, arguments, options, cancellationToken).ConfigureAwait(false);
        return new AsyncResult(this, id, task.Name);
    }

    /// <summary>A typed handle on a task enqueued earlier, perhaps by another process.</summary>
    public AsyncResult<T> GetResult<T>(string id, string? taskName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return new AsyncResult<T>(this, id, taskName);
    }

    /// <summary>A handle on a task without a result, enqueued earlier, perhaps by another process.</summary>
    public AsyncResult GetResult(string id, string? taskName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return new AsyncResult(this, id, taskName);
    }

    /// <summary>What the result backend holds for <paramref name="id"/>; null when it holds nothing.</summary>
    public ValueTask<TaskInfo?> GetInfoAsync(string id, CancellationToken cancellationToken = default)
        => Results.GetAsync(id, cancellationToken);

    /// <summary>Enqueues many runs of a task with a result; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task<IReadOnlyList<AsyncResult<T>>> EnqueueManyAsync<T, TArgs>(TaskDescriptor task, IEnumerable<TArgs> arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        var ids = await SendManyAsync(task, arguments, options, cancellationToken).ConfigureAwait(false);
        var handles = new AsyncResult<T>[ids.Count];
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i] = new AsyncResult<T>(this, ids[i], task.Name);
        }

        return handles;
    }

    /// <summary>Enqueues many runs of a task without a result; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task<IReadOnlyList<AsyncResult>> EnqueueManyAsync<TArgs>(TaskDescriptor task, IEnumerable<TArgs> arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        var ids = await SendManyAsync(task, arguments, options, cancellationToken).ConfigureAwait(false);
        var handles = new AsyncResult[ids.Count];
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i] = new AsyncResult(this, ids[i], task.Name);
        }

        return handles;
    }

    private ValueTask<string> SendAsync<TArgs>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        var plan = Plan(task, options, cancellationToken);
        if (options?.TaskId is { } chosen && (string.IsNullOrWhiteSpace(chosen) || chosen.Length > EnqueueOptions.MaxTaskIdLength))
        {
            throw new ArgumentException($"EnqueueOptions.TaskId must not be blank and must have at most {EnqueueOptions.MaxTaskIdLength} characters.", nameof(options));
        }

        var id = options?.TaskId ?? NewId(plan.Now);
        var (activity, headers) = TaskTelemetry.StartSend(task.Name, plan.Queue, id);

        // The first state never replaces one stored (SetEnqueuedAsync), so the state and the
        // message may arrive in either order: a worker's Started is never overwritten by a late
        // Pending. Both are issued before either is awaited.
        ValueTask write, send;
        try
        {
            var (body, state) = Prepare(task, plan, arguments, id, headers);
            write = Results.SetEnqueuedAsync(state, cancellationToken);
            send = plan.Scheduled
                ? Broker.ScheduleAsync(plan.Queue, body, plan.Priority, plan.Eta!.Value, cancellationToken)
                : Broker.EnqueueAsync(plan.Queue, body, plan.Priority, cancellationToken);
        }
        catch
        {
            activity?.Dispose();
            throw;
        }

        if (write.IsCompletedSuccessfully && send.IsCompletedSuccessfully)
        {
            TaskTelemetry.Enqueued.Add(1, TaskTelemetry.Tags(task.Name, plan.Queue));
            activity?.Dispose();
            return new ValueTask<string>(id);
        }

        return AwaitBoth(write, send, id, task.Name, plan.Queue, activity);

        static async ValueTask<string> AwaitBoth(ValueTask write, ValueTask send, string id, string taskName, string queue, Activity? activity)
        {
            using (activity)
            {
                try
                {
                    try
                    {
                        await write.ConfigureAwait(false);
                    }
                    finally
                    {
                        await send.ConfigureAwait(false);
                    }
                }
                catch (TransportException ex) when (ex.OutcomeUnknown)
                {
                    // The caller needs the id to retry without running the task twice.
                    throw new TransportException(
                        $"The outcome of enqueuing task '{taskName}' is unknown: it may have been enqueued, under id {id}. To retry, enqueue it again with EnqueueOptions.TaskId = \"{id}\" (this exception's TaskId): a task that has already run under that id is not run again. {ex.Message}",
                        ex)
                    {
                        OutcomeUnknown = true,
                        TaskId = id,
                    };
                }

                TaskTelemetry.Enqueued.Add(1, TaskTelemetry.Tags(taskName, queue));
                return id;
            }
        }
    }

    private async ValueTask<IReadOnlyList<string>> SendManyAsync<TArgs>(TaskDescriptor task, IEnumerable<TArgs> arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (options?.TaskId is not null)
        {
            throw new ArgumentException("EnqueueOptions.TaskId names one task; leave it null to enqueue many.", nameof(options));
        }

        var plan = Plan(task, options, cancellationToken);
        var ids = new List<string>();
        var bodies = new List<ReadOnlyMemory<byte>>();
        var states = new List<TaskInfo>();

        // One producer span for the batch; every message carries its context.
        var (activity, headers) = TaskTelemetry.StartSend(task.Name, plan.Queue, "batch");
        using var span = activity;

        // Every message is made (and checked) before the first write, so a bad one sends nothing.
        foreach (var argument in arguments)
        {
            var id = NewId(plan.Now);
            var (body, state) = Prepare(task, plan, argument, id, headers);
            ids.Add(id);
            bodies.Add(body);
            states.Add(state);
        }

        var writes = new List<Task>(states.Count + 1);
        foreach (var state in states)
        {
            writes.Add(Results.SetEnqueuedAsync(state, cancellationToken).AsTask());
        }

        activity?.SetTag("messaging.batch.message_count", ids.Count);

        // As for one task: states and messages may arrive in either order.
        if (plan.Scheduled)
        {
            foreach (var body in bodies)
            {
                writes.Add(Broker.ScheduleAsync(plan.Queue, body, plan.Priority, plan.Eta!.Value, cancellationToken).AsTask());
            }
        }
        else if (bodies.Count > 0)
        {
            writes.Add(Broker.EnqueueManyAsync(plan.Queue, bodies, plan.Priority, cancellationToken).AsTask());
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        TaskTelemetry.Enqueued.Add(ids.Count, TaskTelemetry.Tags(task.Name, plan.Queue));
        return ids;
    }

    /// <summary>Checks the per-call options and works out where and when the messages go.</summary>
    private SendPlan Plan(TaskDescriptor task, EnqueueOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var queue = options?.Queue ?? task.Queue;
        if (QueueName.Problem(queue) is { } problem)
        {
            throw new ArgumentException($"EnqueueOptions.Queue: {problem}; leave it null for the task's own queue. Nothing was sent.", nameof(options));
        }

        var priority = options?.Priority ?? 0;
        if (priority is < 0 or > TaskDefaults.MaxPriority)
        {
            throw new ArgumentOutOfRangeException(nameof(options), priority, $"EnqueueOptions.Priority must be from 0 to {TaskDefaults.MaxPriority}.");
        }

        if (options?.Delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Delay, "EnqueueOptions.Delay must not be negative.");
        }

        var eta = options?.Eta ?? (options?.Delay is { } delay ? now + delay : null);
        var expires = options?.Expires ?? task.Expires;
        var expiresAt = options?.ExpiresAt ?? (expires is { } e ? now + e : null);
        Coverage?.Observe(queue, task.Name);
        return new SendPlan(now, queue, priority, eta, expiresAt, eta > now);
    }

    private static string NewId(DateTimeOffset now) => Guid.CreateVersion7(now).ToString();

    private (byte[] Body, TaskInfo State) Prepare<TArgs>(TaskDescriptor task, SendPlan plan, TArgs arguments, string id, IReadOnlyDictionary<string, string>? headers)
        where TArgs : struct, ITaskArguments
    {
        var header = new EnvelopeHeader(id, task.Name, plan.Queue, plan.Priority, 0, plan.Now, plan.Eta, plan.ExpiresAt, headers);
        var body = TaskEnvelope.Write(header, arguments, TaskSerializer.Options);
        if (body.Length > _maxMessageSize)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The message of task '{task.Name}' is {body.Length:N0} bytes, more than the limit of {_maxMessageSize:N0} bytes (TypedTasks:MaxMessageSize, TypedTasksOptions.MaxMessageSize). Nothing was sent. Pass large data by reference (a file or blob name, a database key) and let the task read it, or raise the limit."),
                nameof(arguments));
        }

        var state = new TaskInfo(id, task.Name, plan.Scheduled ? TaskState.Scheduled : TaskState.Pending, 0, plan.Now, null, ReadOnlyMemory<byte>.Empty) { Queue = plan.Queue };
        return (body, state);
    }

    private readonly record struct SendPlan(DateTimeOffset Now, string Queue, int Priority, DateTimeOffset? Eta, DateTimeOffset? ExpiresAt, bool Scheduled);
}

using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Diagnostics;
using TypedTasks.Serialization;
using TypedTasks.Store;
using TypedTasks.Transport;

namespace TypedTasks;

/// <summary>
/// Sends tasks to a task store and reads their states and results. Generated proxies use <see cref="Current"/>
/// (the client of the host that started last) unless given one with <c>WithClient</c>.
/// </summary>
public sealed class TaskClient
{
    private static volatile TaskClient? _current;
    private readonly TimeProvider _time;
    private readonly int _maxMessageSize = TaskDefaults.MaxMessageSize;

    /// <summary>Creates a client over a task store.</summary>
    public TaskClient(ITaskStore store, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// The client of the host that started last; proxies such as <c>Tasks.Add</c> use it.
    /// Throws when no host with <c>AddTypedTasks</c> has started.
    /// </summary>
    public static TaskClient Current => _current ?? throw new InvalidOperationException(
        "No TypedTasks client is active. Start the host built with AddTypedTasks (host.StartAsync() or RunAsync()) before enqueuing, or give a client explicitly: Tasks.X.WithClient(client).");

    /// <summary>The store this client sends tasks to and reads their states from.</summary>
    public ITaskStore Store { get; }

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
    public Task<AsyncResult<T>> EnqueueAsync<T, TArgs>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
        => SendAsync(task, arguments, options, cancellationToken, default, static (client, id, name) => new AsyncResult<T>(client, id, name));

    /// <summary>Enqueues a task without a result; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Task<AsyncResult> EnqueueAsync<TArgs>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
        => SendAsync(task, arguments, options, cancellationToken, default, static (client, id, name) => new AsyncResult(client, id, name));

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

    /// <summary>What the store holds for <paramref name="id"/>; null when it holds nothing.</summary>
    public ValueTask<TaskInfo?> GetInfoAsync(string id, CancellationToken cancellationToken = default)
        => Store.GetAsync(id, cancellationToken);

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

    /// <summary>
    /// Sends a bound call, for <see cref="TaskCall.EnqueueAsync"/>, schedules and workflows:
    /// <paramref name="options"/> replaces the call's own (build it from <see cref="TaskCall.Options"/>
    /// with <c>with</c> to keep them), and <paramref name="marks"/> travel in the envelope's headers.
    /// </summary>
    /// <returns>The task's id.</returns>
    internal ValueTask<string> SendCallAsync(TaskCall call, EnqueueOptions? options, CallMarks marks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return new ValueTask<string>(SendAsync(call.Task, new EncodedArguments(call.Arguments), options, cancellationToken, marks, static (_, id, _) => id));
    }

    /// <summary>
    /// Makes a call's envelope and limits as <see cref="SendCallAsync"/> would, with <paramref name="arguments"/>
    /// (the call's own, or with the first one open: <paramref name="firstOpen"/>), without sending it.
    /// </summary>
    internal PreparedCall PrepareCall(TaskCall call, ReadOnlyMemory<byte> arguments, IReadOnlyDictionary<string, string> headers, bool firstOpen = false)
    {
        ArgumentNullException.ThrowIfNull(call);
        var plan = Plan(call.Task, call.Options, default);
        var body = Prepare(call.Task, plan, new EncodedArguments(arguments), headers);
        var limits = TaskLimits.For(call.Task, new EncodedArguments(arguments), firstOpen);

        // The arguments are the envelope's last field (docs/wire-format.md).
        var start = body.Length - arguments.Length;
        var header = arguments.Span[0] switch
        {
            0xdc => 3,
            0xdd => 5,
            _ => 1,
        };
        return new PreparedCall(plan.Queue, plan.Priority, body, plan.Scheduled ? plan.Eta : null, start + header, limits);
    }

    /// <summary>
    /// Sends a task: made and handed to the store (<see cref="Start"/>), then its answer awaited
    /// here, in the one state machine of the call, and made into what the caller returns.
    /// </summary>
    private async Task<TResult> SendAsync<TArgs, TResult>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken, CallMarks marks, Func<TaskClient, string, string, TResult> result)
        where TArgs : struct, ITaskArguments
    {
        var sending = Start(task, arguments, options, cancellationToken, marks);
        string id;
        try
        {
            id = await sending.Stored.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw sending.Failed(ex);
        }

        sending.Sent(id);
        return result(this, id, task.Name);
    }

    /// <summary>
    /// Checks a call, makes its message and hands it to the store; the caller awaits the store's
    /// answer (<see cref="Sending.Stored"/>) and ends the send with <see cref="Sending.Sent"/> or
    /// <see cref="Sending.Failed"/>. Throws what a bad call throws, with nothing sent.
    /// </summary>
    private Sending Start<TArgs>(TaskDescriptor task, TArgs arguments, EnqueueOptions? options, CancellationToken cancellationToken, CallMarks marks)
        where TArgs : struct, ITaskArguments
    {
        var plan = Plan(task, options, cancellationToken);
        var chosen = options?.TaskId;
        if (chosen is not null && (string.IsNullOrWhiteSpace(chosen) || chosen.Length > EnqueueOptions.MaxTaskIdLength))
        {
            throw new ArgumentException($"EnqueueOptions.TaskId must not be blank and must have at most {EnqueueOptions.MaxTaskIdLength} characters.", nameof(options));
        }

        var (activity, headers) = TaskTelemetry.StartSend(task.Name, plan.Queue, chosen);
        try
        {
            var body = Prepare(task, plan, arguments, marks.IsEmpty ? headers : Mark(headers, marks));

            // One step: the record, its state and its place in the queue are stored together.
            var stored = Store.EnqueueAsync(plan.Queue, Keyed(task, arguments, new TaskToEnqueue(body, plan.Priority, plan.Scheduled ? plan.Eta : null, chosen)), cancellationToken);
            return new Sending(stored, activity, task.Name, plan.Queue, chosen);
        }
        catch (Exception ex)
        {
            activity?.Dispose();
            if (ex is TransportException { OutcomeUnknown: true } unknown)
            {
                throw OutcomeUnknown(unknown, task.Name, chosen);
            }

            throw;
        }
    }

    /// <summary>
    /// The enqueue was sent and no answer came: the caller needs to know that it may have been
    /// enqueued, and how to retry without running the task twice.
    /// </summary>
    private static TransportException OutcomeUnknown(TransportException ex, string taskName, string? chosen)
        => new(chosen is null
                ? $"The outcome of enqueuing task '{taskName}' is unknown: it may have been enqueued. To make such a retry safe, choose the task's id with EnqueueOptions.TaskId: an enqueue under an id already used in the queue sends nothing and returns the first task. {ex.Message}"
                : $"The outcome of enqueuing task '{taskName}' is unknown: it may have been enqueued, under the id you chose ({chosen}). Enqueue it again with the same EnqueueOptions.TaskId (this exception's TaskId): if it was enqueued, nothing more is sent. {ex.Message}",
            ex)
        {
            OutcomeUnknown = true,
            TaskId = chosen,
        };

    private async ValueTask<IReadOnlyList<string>> SendManyAsync<TArgs>(TaskDescriptor task, IEnumerable<TArgs> arguments, EnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : struct, ITaskArguments
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (options?.TaskId is not null)
        {
            throw new ArgumentException("EnqueueOptions.TaskId names one task; leave it null to enqueue many.", nameof(options));
        }

        var plan = Plan(task, options, cancellationToken);

        // One producer span for the batch; every message carries its context.
        var (activity, headers) = TaskTelemetry.StartSend(task.Name, plan.Queue, "batch");
        using var span = activity;

        // Every message is made (and checked) before the first write, so a bad one sends nothing.
        var tasks = new List<TaskToEnqueue>();
        foreach (var argument in arguments)
        {
            tasks.Add(Keyed(task, argument, new TaskToEnqueue(Prepare(task, plan, argument, headers), plan.Priority, plan.Scheduled ? plan.Eta : null)));
        }

        activity?.SetTag("messaging.batch.message_count", tasks.Count);
        if (tasks.Count == 0)
        {
            return [];
        }

        var ids = await Store.EnqueueManyAsync(plan.Queue, tasks, cancellationToken).ConfigureAwait(false);
        TaskTelemetry.Count(TaskTelemetry.Enqueued, task.Name, plan.Queue, ids.Count);
        return ids;
    }

    /// <summary>The task with what its arguments key: its unique key and bound when the task is unique, and its limits.</summary>
    private static TaskToEnqueue Keyed<TArgs>(TaskDescriptor task, TArgs arguments, TaskToEnqueue stored)
        where TArgs : struct, ITaskArguments
    {
        if (task.UniqueFor is { } span)
        {
            stored = stored with { UniqueKey = UniqueKeys.For(task, arguments), UniqueFor = span };
        }

        return stored with { Limits = TaskLimits.For(task, arguments) };
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

    private byte[] Prepare<TArgs>(TaskDescriptor task, SendPlan plan, TArgs arguments, IReadOnlyDictionary<string, string>? headers)
        where TArgs : struct, ITaskArguments
    {
        var header = new EnvelopeHeader(task.Name, plan.Now, plan.Eta, plan.ExpiresAt, headers);
        var body = TaskEnvelope.Write(header, arguments, TaskSerializer.Options);
        if (body.Length > _maxMessageSize)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The message of task '{task.Name}' is {body.Length:N0} bytes, more than the limit of {_maxMessageSize:N0} bytes (TypedTasks:MaxMessageSize, TypedTasksOptions.MaxMessageSize). Nothing was sent. Pass large data by reference (a file or blob name, a database key) and let the task read it, or raise the limit."),
                nameof(arguments));
        }

        return body;
    }

    /// <summary>The envelope headers of <paramref name="marks"/> alone: made once for all the calls of a workflow, which share them.</summary>
    internal static IReadOnlyDictionary<string, string> HeadersOf(CallMarks marks) => Mark(null, marks);

    private static Dictionary<string, string> Mark(Dictionary<string, string>? headers, CallMarks marks)
    {
        headers ??= new Dictionary<string, string>(StringComparer.Ordinal);
        if (marks.ScheduledFor is { } at)
        {
            headers[TaskEnvelope.ScheduledForHeader] = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        if (marks.WorkflowId is { } workflow)
        {
            headers[TaskEnvelope.WorkflowIdHeader] = workflow;
        }

        return headers;
    }

    /// <summary>Arguments encoded earlier (a <see cref="TaskCall"/>'s), written as they are.</summary>
    private readonly struct EncodedArguments(ReadOnlyMemory<byte> encoded) : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options)
            => writer.WriteRaw(encoded.Span);
    }

    /// <summary>An enqueue handed to the store: its answer to await, and its span and counter to end it with.</summary>
    private readonly struct Sending(ValueTask<string> stored, Activity? activity, string taskName, string queue, string? chosen)
    {
        public ValueTask<string> Stored { get; } = stored;

        /// <summary>The store answered with the task's id: tagged, counted, the span ended.</summary>
        public void Sent(string id)
        {
            if (activity is not null)
            {
                activity.SetTag(TaskTelemetry.MessageIdTag, id);
                activity.Dispose();
            }

            TaskTelemetry.Count(TaskTelemetry.Enqueued, taskName, queue);
        }

        /// <summary>
        /// The store failed: the span ends, and the exception to throw is returned (an unknown
        /// outcome says how to retry safely; any other is rethrown as it came, its trace kept).
        /// </summary>
        public Exception Failed(Exception ex)
        {
            activity?.Dispose();
            if (ex is TransportException { OutcomeUnknown: true } unknown)
            {
                return OutcomeUnknown(unknown, taskName, chosen);
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);
            return ex;
        }
    }

    private readonly record struct SendPlan(DateTimeOffset Now, string Queue, int Priority, DateTimeOffset? Eta, DateTimeOffset? ExpiresAt, bool Scheduled);
}

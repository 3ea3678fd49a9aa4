using System;
using System.ComponentModel;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTasks.Serialization;
using TypedTasks.Store;

namespace TypedTasks;

/// <summary>
/// One run of a task as the generated dispatch table sees it: the encoded arguments, the
/// cancellation token handed to the task, and the services of this run's own DI scope.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TaskInvocation : IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly ReadOnlyMemory<byte> _arguments;
    private readonly TaskLease? _lease;
    private readonly TaskEnvelope? _envelope;
    private readonly int _maxRetries;
    private readonly ITaskStore? _store;
    private readonly ILogger? _logger;

    // A leased task's run makes its token when the task first asks for it (most never do).
    private readonly Worker.RunningTask? _run;
    private readonly CancellationToken _cancellationToken;
    private Worker.IProgressFlush? _progress;
    private TaskContext? _context;
    private AsyncServiceScope? _scope;

    internal TaskInvocation(IServiceProvider services, string taskName, ReadOnlyMemory<byte> arguments, MessagePackSerializerOptions options, CancellationToken cancellationToken)
    {
        _services = services;
        TaskName = taskName;
        _arguments = arguments;
        SerializerOptions = options;
        _cancellationToken = cancellationToken;
    }

    /// <summary>A run from another system's message (a Celery queue): its context is made by that consumer, not from a lease.</summary>
    internal TaskInvocation(IServiceProvider services, TaskContext context, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken)
        : this(services, context.Name, arguments, TaskSerializer.Options, cancellationToken)
    {
        _context = context;
    }

    /// <summary>A run of a leased task, whose context is made from its lease and envelope when the task asks for it.</summary>
    internal TaskInvocation(IServiceProvider services, TaskLease lease, TaskEnvelope envelope, int maxRetries, Worker.RunningTask run, ITaskStore? store = null, ILogger? logger = null)
        : this(services, envelope.TaskName, envelope.Arguments, TaskSerializer.Options, default)
    {
        _run = run;
        _lease = lease;
        _envelope = envelope;
        _maxRetries = maxRetries;
        _store = store;
        _logger = logger;
    }

    /// <summary>The name of the task being run.</summary>
    public string TaskName { get; }

    /// <summary>The settings to decode arguments and encode the result with.</summary>
    public MessagePackSerializerOptions SerializerOptions { get; }

    /// <summary>Signalled when the run must stop: timeout, cancellation or worker shutdown.</summary>
    public CancellationToken CancellationToken => _run?.Token ?? _cancellationToken;

    /// <summary>The run's context, for a task that declares a <see cref="TypedTasks.TaskContext"/> parameter; made on first use.</summary>
    public TaskContext Context => _context ??= _lease is { } lease && _envelope is { } envelope
        ? new TaskContext(lease.Id, envelope.TaskName, lease.Queue, lease.Attempt, _maxRetries, envelope.EnqueuedAt, envelope.ScheduledFor, envelope.WorkflowId)
        : throw new InvalidOperationException($"No task context is available for this run of task {TaskName}.");

    /// <summary>
    /// The run's progress reporter, for a task that declares an <see cref="IProgress{T}"/>
    /// parameter: reports are coalesced and stored under the run's fence, readable by any process.
    /// </summary>
    public IProgress<T> Progress<T>()
    {
        if (_progress is IProgress<T> typed)
        {
            return typed;
        }

        if (_lease is not { } lease || _store is null)
        {
            // Run outside a worker (a test calling the dispatch): reports go nowhere.
            return new Progress<T>();
        }

        var reporter = new Worker.ProgressReporter<T>(_store, lease, _logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        _progress = reporter;
        return reporter;
    }

    /// <summary>Writes the run's last progress report, before its final state is stored.</summary>
    internal Task FlushProgressAsync(CancellationToken cancellationToken)
        => _progress?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>A reader over the arguments array, checked to hold <paramref name="expectedCount"/> values.</summary>
    public MessagePackReader CreateArgumentReader(int expectedCount)
    {
        var reader = new MessagePackReader(_arguments);
        int count;
        try
        {
            count = reader.ReadArrayHeader();
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            throw new TaskArgumentException($"The arguments of task {TaskName} are not a MessagePack array: {ex.Message}", ex);
        }

        if (count != expectedCount)
        {
            throw new TaskArgumentException($"Task {TaskName} takes {expectedCount} argument(s) but the message carries {count}.");
        }

        return reader;
    }

    /// <summary>Reads the next argument, turning a decoding error into a <see cref="TaskArgumentException"/> that names it.</summary>
    public T ReadArgument<T>(ref MessagePackReader reader, string name)
    {
        try
        {
            return TaskSerializer.Read<T>(ref reader, SerializerOptions);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            throw new TaskArgumentException($"Argument '{name}' of task {TaskName} cannot be read as {typeof(T)}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The object an instance task runs on: resolved from a DI scope created for this run, or,
    /// when its class is not registered, constructed with its dependencies from that scope.
    /// </summary>
    public T GetTarget<T>()
        where T : class
    {
        _scope ??= _services.CreateAsyncScope();
        return ActivatorUtilities.GetServiceOrCreateInstance<T>(_scope.Value.ServiceProvider);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _scope?.DisposeAsync() ?? default;
}

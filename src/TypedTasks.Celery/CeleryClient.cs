using System;
using System.Buffers;
using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Celery.Protocol;

namespace TypedTasks.Celery;

/// <summary>
/// Sends tasks to Celery queues on Redis and reads Celery's result backend. Generated
/// <c>CeleryTasks</c> proxies send through <see cref="Current"/>: the client <c>AddCelery</c>
/// registers, or one made current with <see cref="MakeCurrent"/>.
/// </summary>
public sealed class CeleryClient : IAsyncDisposable
{
    private static CeleryClient? _current;
    private readonly bool _ownsConnection;

    private CeleryClient(IConnectionMultiplexer connection, bool ownsConnection, CeleryOptions options)
    {
        Connection = connection;
        _ownsConnection = ownsConnection;
        Options = options;
        Database = connection.GetDatabase(options.Database);
    }

    /// <summary>The client generated proxies use.</summary>
    public static CeleryClient Current => _current ?? throw new InvalidOperationException(
        "No Celery client is current: call services.AddCelery(...) and start the host, or CeleryClient.Create(...).MakeCurrent().");

    /// <summary>The options this client was made with.</summary>
    public CeleryOptions Options { get; }

    internal IConnectionMultiplexer Connection { get; }

    internal IDatabase Database { get; }

    /// <summary>Connects to the Redis that <see cref="CeleryOptions.Configuration"/> or <see cref="CeleryOptions.Connection"/> names.</summary>
    public static CeleryClient Create(CeleryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DefaultQueue is not { Length: > 0 })
        {
            throw new ArgumentException("CeleryOptions.DefaultQueue must name a queue, such as \"celery\".", nameof(options));
        }

        if (options.ResultSerializer is not ("json" or "msgpack"))
        {
            throw new ArgumentException($"CeleryOptions.ResultSerializer is '{options.ResultSerializer}': use \"json\" or \"msgpack\" (pickle is never read).", nameof(options));
        }

        if (options.Connection is { } connection)
        {
            return new CeleryClient(connection, ownsConnection: false, options);
        }

        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            throw new ArgumentException("Set CeleryOptions.Configuration (a Redis connection string) or CeleryOptions.Connection.", nameof(options));
        }

        var configuration = ConfigurationOptions.Parse(options.Configuration);
        configuration.AbortOnConnectFail = false;
        return new CeleryClient(ConnectionMultiplexer.Connect(configuration), ownsConnection: true, options);
    }

    /// <summary>Makes this client the one generated proxies send through.</summary>
    public CeleryClient MakeCurrent()
    {
        _current = this;
        return this;
    }

    /// <summary>
    /// Sends task <paramref name="taskName"/> with positional arguments, serialized as JSON, and
    /// returns a handle whose result reads as <typeparamref name="T"/>: Celery's <c>app.send_task</c>.
    /// </summary>
    public Task<CeleryResult<T>> SendTaskAsync<T>(string taskName, object?[] args, CeleryEnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskName);
        ArgumentNullException.ThrowIfNull(args);
        var json = JsonSerializer.SerializeToNode(args) as JsonArray ?? [];
        return PublishAsync<T>(taskName, null, json, options, cancellationToken);
    }

    /// <summary>Sends a task whose arguments a generated proxy wrote; called by generated code.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Task<CeleryResult<T>> EnqueueAsync<T, TArgs>(string taskName, string? queue, TArgs args, CeleryEnqueueOptions? options, CancellationToken cancellationToken)
        where TArgs : ITaskArguments
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        args.Write(ref writer, TaskSerializer.Options);
        writer.Flush();
        var json = JsonNode.Parse(MessagePackSerializer.ConvertToJson(buffer.WrittenMemory, TaskSerializer.Options)) as JsonArray ?? [];
        return PublishAsync<T>(taskName, queue, json, options, cancellationToken);
    }

    /// <summary>A handle on a task sent earlier (by any process, in any language), from its id.</summary>
    public CeleryResult<T> GetResult<T>(string id, string? taskName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return new CeleryResult<T>(this, id, taskName);
    }

    /// <summary>
    /// Revokes a task, as Celery's <c>app.control.revoke</c>: every worker (Python or .NET) that gets
    /// it afterwards stores REVOKED and does not run it; with <paramref name="terminate"/>, a running
    /// one is stopped (a .NET worker signals the task's cancellation token).
    /// </summary>
    public async Task RevokeAsync(string id, bool terminate = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        cancellationToken.ThrowIfCancellationRequested();
        var message = Envelope.Control("revoke", new JsonObject { ["task_id"] = id, ["terminate"] = terminate, ["signal"] = "SIGTERM" }, TimeSpan.FromSeconds(1));
        await Database.PublishAsync(RedisChannel.Literal(PidboxChannel), message).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (ReferenceEquals(_current, this))
        {
            _current = null;
        }

        if (_ownsConnection)
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The channel kombu's Redis transport publishes <c>celery.pidbox</c> broadcasts on.</summary>
    internal string PidboxChannel => $"/{Options.Database}.celery.pidbox";

    private async Task<CeleryResult<T>> PublishAsync<T>(string taskName, string? queue, JsonArray args, CeleryEnqueueOptions? options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var id = options?.TaskId ?? Guid.NewGuid().ToString();
        var now = DateTimeOffset.UtcNow;
        var target = options?.Queue ?? queue ?? Options.DefaultQueue;
        var message = new TaskMessage(taskName, id, target, args, [])
        {
            Eta = options?.Eta ?? (options?.Countdown is { } countdown ? now + countdown : null),
            Expires = options?.Expires is { } expires ? now + expires : null,
        };
        await Database.ListLeftPushAsync(target, Envelope.Task(message)).ConfigureAwait(false);
        return new CeleryResult<T>(this, id, taskName);
    }
}

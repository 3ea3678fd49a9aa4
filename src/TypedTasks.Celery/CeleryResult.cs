using System;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Celery.Protocol;

namespace TypedTasks.Celery;

/// <summary>
/// A handle on a Celery task, read from Celery's result backend (<c>celery-task-meta-&lt;id&gt;</c>)
/// whichever worker runs it, Python or .NET. Await it (or call <see cref="GetAsync"/>) to wait
/// for the task to finish; a failure throws <see cref="TaskFailedException"/> with the remote
/// exception's type and message, a revoke throws <see cref="TaskRevokedException"/>.
/// </summary>
public class CeleryResult
{
    private static readonly TimeSpan Repoll = TimeSpan.FromSeconds(1);

    internal CeleryResult(CeleryClient client, string id, string? taskName)
    {
        Client = client;
        Id = id;
        TaskName = taskName;
    }

    /// <summary>The task id (a UUID), the same one Python's <c>AsyncResult</c> takes.</summary>
    public string Id { get; }

    /// <summary>The task name, when this handle was created knowing it.</summary>
    public string? TaskName { get; }

    /// <summary>The client this handle reads through.</summary>
    protected CeleryClient Client { get; }

    /// <summary>
    /// The task's state now: PENDING (or no stored state, as Celery reads it) is Pending, STARTED
    /// Started, RETRY Retrying, SUCCESS Succeeded, FAILURE Failed, REVOKED Canceled.
    /// </summary>
    public async Task<TaskState> GetStateAsync(CancellationToken cancellationToken = default)
        => CeleryStates.ToTaskState(await GetStatusAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The task's Celery status string now (<c>"PENDING"</c> when nothing is stored).</summary>
    public async Task<string> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var meta = await ReadAsync().ConfigureAwait(false);
        return meta?["status"]?.GetValue<string>() ?? CeleryStates.Pending;
    }

    /// <summary>Revokes the task (see <see cref="CeleryClient.RevokeAsync"/>).</summary>
    public Task RevokeAsync(bool terminate = false, CancellationToken cancellationToken = default)
        => Client.RevokeAsync(Id, terminate, cancellationToken);

    /// <summary>
    /// Waits until the task has finished. Throws <see cref="TaskFailedException"/> on FAILURE,
    /// <see cref="TaskRevokedException"/> on REVOKED and <see cref="TimeoutException"/> when
    /// <paramref name="timeout"/> passes first (null: wait for ever).
    /// </summary>
    public Task GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => WaitSucceededAsync(timeout, cancellationToken);

    /// <summary>Lets <c>await result</c> wait like <see cref="GetAsync"/> with no timeout.</summary>
    public TaskAwaiter GetAwaiter() => GetAsync().GetAwaiter();

    /// <inheritdoc/>
    public override string ToString() => TaskName is null ? Id : $"{TaskName} {Id}";

    /// <summary>Waits for a ready state (SUCCESS, FAILURE, REVOKED) and returns the stored result of a success.</summary>
    private protected async Task<JsonNode?> WaitSucceededAsync(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var wait = timeout ?? Timeout.InfiniteTimeSpan;
        if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (wait != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(wait);
        }

        // Celery's backend PUBLISHes the meta on the key's own channel as it stores it: subscribing
        // before the first read means no store can fall between the read and the wait.
        var key = ResultMeta.Key(Id);
        var signal = new SemaphoreSlim(0);
        var subscriber = Client.Connection.GetSubscriber();
        var channel = RedisChannel.Literal(key);
        void Wake(RedisChannel _, RedisValue __) => signal.Release();
        await subscriber.SubscribeAsync(channel, Wake).ConfigureAwait(false);
        string status = CeleryStates.Pending;
        try
        {
            while (true)
            {
                var meta = await ReadAsync().ConfigureAwait(false);
                status = meta?["status"]?.GetValue<string>() ?? CeleryStates.Pending;
                if (CeleryStates.IsReady(status))
                {
                    return Settle(meta!, status);
                }

                try
                {
                    // The re-read covers a lost subscription (a reconnect drops it until it is restored).
                    await signal.WaitAsync(Repoll, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"Celery task {this} did not finish within {wait}: its state is {status}. A PENDING task is queued and no worker has taken it (is a worker consuming its queue?), or the id is unknown.");
                }
            }
        }
        finally
        {
            await subscriber.UnsubscribeAsync(channel, Wake).ConfigureAwait(false);
            signal.Dispose();
        }
    }

    private JsonNode? Settle(JsonObject meta, string status)
    {
        var result = meta["result"];
        switch (status)
        {
            case CeleryStates.Success:
                return result;
            case CeleryStates.Revoked:
                throw new TaskRevokedException(Id, TaskName ?? "?", TaskState.Canceled);
            default:
                var error = new TaskError(ResultMeta.ExceptionType(result), ResultMeta.ExceptionMessage(result), meta["traceback"]?.GetValue<string>());
                throw new TaskFailedException(Id, TaskName ?? "?", error);
        }
    }

    private async Task<JsonObject?> ReadAsync()
    {
        var stored = await Client.Database.StringGetAsync(ResultMeta.Key(Id)).ConfigureAwait(false);
        if (stored.IsNull)
        {
            return null;
        }

        if (Client.Options.ResultSerializer == "msgpack")
        {
            return ResultMeta.Parse(MessagePackSerializer.ConvertToJson((ReadOnlyMemory<byte>)stored, MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData)));
        }

        return ResultMeta.Parse(stored.ToString());
    }
}

/// <summary>A typed handle on a Celery task: <c>int sum = await result;</c> waits for its result.</summary>
/// <typeparam name="T">The task's result type; the stored JSON result is read as it.</typeparam>
public sealed class CeleryResult<T> : CeleryResult
{
    internal CeleryResult(CeleryClient client, string id, string? taskName)
        : base(client, id, taskName)
    {
    }

    /// <summary>
    /// Waits until the task has finished and returns its result read as <typeparamref name="T"/>.
    /// Throws like <see cref="CeleryResult.GetAsync"/>, and <see cref="InvalidCastException"/> when
    /// the stored result cannot be read as <typeparamref name="T"/>.
    /// </summary>
    public new async Task<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await WaitSucceededAsync(timeout, cancellationToken).ConfigureAwait(false);
        var bytes = MessagePackSerializer.ConvertFromJson(result?.ToJsonString() ?? "null", TaskSerializer.Options);
        try
        {
            return MessagePackSerializer.Deserialize<T>(bytes, TaskSerializer.Options);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new InvalidCastException($"The result of Celery task {this}, {result?.ToJsonString() ?? "null"}, cannot be read as {typeof(T)}: {ex.Message}", ex);
        }
    }

    /// <summary>Lets <c>T value = await result</c> wait like <see cref="GetAsync"/> with no timeout.</summary>
    public new TaskAwaiter<T> GetAwaiter() => GetAsync().GetAwaiter();
}

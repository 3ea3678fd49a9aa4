using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Celery.Protocol;

namespace TypedTasks.Celery.Worker;

/// <summary>
/// A hosted consumer of Celery queues: it takes protocol 2 messages the kombu way (see
/// <see cref="KombuChannel"/>), runs the <c>[Task]</c> whose name is the message's task name
/// through the task's generated invoker, the same dispatch the TypedTasks worker uses, and stores
/// the outcome where Celery's <c>AsyncResult</c> reads it before it acknowledges the message
/// (Celery's <c>acks_late</c>): a worker killed mid-run loses nothing, the message comes back after
/// the visibility timeout. A message with an ETA is held, unacknowledged, until it is due.
/// </summary>
internal sealed class CeleryWorker(CeleryClient client, CeleryWorkerOptions options, IServiceProvider services, ILogger<CeleryWorker> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, CeleryMessage?> _held = new(StringComparer.Ordinal);
    private readonly RevokedTasks _revoked = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly List<Task> _runs = [];
    private IReadOnlyDictionary<string, TaskDescriptor> _tasks = new Dictionary<string, TaskDescriptor>();
    private KombuChannel _channel = null!;
    private SemaphoreSlim _slots = null!;
    private CancellationToken _stopping;

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        using var _ = cancellationToken.Register(_hardStop.Cancel);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _hardStop.Dispose();
        base.Dispose();
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = options.Queues.Count > 0 ? options.Queues.ToArray() : [client.Options.DefaultQueue];
        if (options.Concurrency < 1)
        {
            throw new InvalidOperationException($"CeleryWorkerOptions.Concurrency is {options.Concurrency}: it must be at least 1.");
        }

        _stopping = stoppingToken;
        _tasks = TaskCatalog.BuildTable();
        _channel = new KombuChannel(client, queues);
        _slots = new SemaphoreSlim(options.Concurrency);
        var subscriber = client.Connection.GetSubscriber();
        var pidbox = RedisChannel.Literal(client.PidboxChannel);
        await subscriber.SubscribeAsync(pidbox, (_, message) => OnBroadcast(message)).ConfigureAwait(false);
        Log.Consuming(logger, string.Join(", ", queues), options.Concurrency);
        var upkeep = UpkeepAsync(stoppingToken);
        try
        {
            await FetchLoopAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            await subscriber.UnsubscribeAsync(pidbox).ConfigureAwait(false);
            Task[] runs;
            lock (_runs)
            {
                runs = [.. _runs];
            }

            // Warm shutdown: runs finish (or are stopped by the host's shutdown timeout and put
            // back); messages held for their ETA go back to their queue at once, as kombu restores
            // its unacknowledged messages at shutdown.
            await Task.WhenAll(runs).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var tag in _held.Keys.ToList())
            {
                await PutBackAsync(tag).ConfigureAwait(false);
            }

            await upkeep.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>How long after its last message a worker keeps looking at its queues at least every <see cref="BusyPoll"/>.</summary>
    private static readonly TimeSpan BusyWindow = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan BusyPoll = TimeSpan.FromMilliseconds(20);

    private async Task FetchLoopAsync(CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromMilliseconds(1);
        var lastMessage = DateTimeOffset.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Delivery? delivery;
            try
            {
                delivery = await _channel.FetchAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                _slots.Release();
                Log.RedisFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            if (delivery is null)
            {
                _slots.Release();
                await Task.Delay(idle, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

                // A pop that also records the message unacknowledged is a script, which cannot
                // block as kombu's BRPOP does: look often right after work, rarely when idle.
                var cap = DateTimeOffset.UtcNow - lastMessage < BusyWindow ? Math.Min(BusyPoll.Ticks, options.IdlePoll.Ticks) : options.IdlePoll.Ticks;
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, cap));
                continue;
            }

            idle = TimeSpan.FromMilliseconds(1);
            lastMessage = DateTimeOffset.UtcNow;
            if (delivery.Tag.Length == 0)
            {
                _slots.Release();
                Log.Refused(logger, delivery.Queue, null, _channel.DeadLetterList(delivery.Queue), "no delivery tag");
                continue;
            }

            _held[delivery.Tag] = null;
            Track(RunAsync(delivery));
        }
    }

    private void Track(Task run)
    {
        lock (_runs)
        {
            _runs.RemoveAll(t => t.IsCompleted);
            _runs.Add(run);
        }
    }

    /// <summary>Decodes and runs one delivery, holding a worker slot; an ETA in the future gives the slot back until it is due.</summary>
    private async Task RunAsync(Delivery delivery)
    {
        var slotHeld = true;
        try
        {
            CeleryMessage message;
            try
            {
                message = CeleryMessage.Parse(delivery.Raw);
            }
            catch (RefusedMessageException refused)
            {
                await RefuseAsync(delivery, null, refused).ConfigureAwait(false);
                return;
            }

            _held[delivery.Tag] = message;
            if (message.Eta is { } eta && eta > DateTimeOffset.UtcNow)
            {
                // Held unacknowledged until due, as a Celery worker holds it; the upkeep keeps its
                // fetch time fresh so that no worker restores it while this one lives.
                _slots.Release();
                slotHeld = false;
                try
                {
                    await Task.Delay(eta - DateTimeOffset.UtcNow, _stopping).ConfigureAwait(false);
                    await _slots.WaitAsync(_stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The worker stops before it is due: back to its queue now, as kombu does at shutdown.
                    await PutBackAsync(delivery.Tag).ConfigureAwait(false);
                    return;
                }

                slotHeld = true;
            }

            await RunMessageAsync(delivery, message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
        {
            // Stopped before the run could end: the message goes back to its queue now.
            await PutBackAsync(delivery.Tag).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.RedisFailed(logger, ex);
        }
        finally
        {
            _held.TryRemove(delivery.Tag, out _);
            if (slotHeld)
            {
                _slots.Release();
            }
        }
    }

    private async Task RunMessageAsync(Delivery delivery, CeleryMessage message)
    {
        (JsonArray Args, JsonObject Kwargs) body;
        try
        {
            body = message.ReadArguments();
        }
        catch (RefusedMessageException refused)
        {
            await RefuseAsync(delivery, message, refused).ConfigureAwait(false);
            return;
        }

        var id = message.Id!;
        var name = message.TaskName!;
        if (_revoked.IsRevoked(id))
        {
            await RevokedAsync(delivery, message, "revoked").ConfigureAwait(false);
            return;
        }

        if (message.Expires is { } expires && expires <= DateTimeOffset.UtcNow)
        {
            await RevokedAsync(delivery, message, "expired").ConfigureAwait(false);
            return;
        }

        if (!_tasks.TryGetValue(name, out var task))
        {
            var reason = $"no [Task(\"{name}\")] is known to this .NET worker (it consumes {string.Join(", ", options.Queues.DefaultIfEmpty(client.Options.DefaultQueue))})";
            await RefuseAsync(delivery, message, new RefusedMessageException(reason, "NotRegistered", "celery.exceptions")).ConfigureAwait(false);
            return;
        }

        if (options.TrackStarted)
        {
            await _channel.SettleAsync(id, ResultMeta.Create(id, CeleryStates.Started, new JsonObject { ["pid"] = Environment.ProcessId, ["hostname"] = Environment.MachineName }, null, message, DateTime.UtcNow), tag: null).ConfigureAwait(false);
        }

        using var run = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token);
        if (task.Timeout is { } limit)
        {
            run.CancelAfter(limit);
        }

        _revoked.Started(id, run);
        ReadOnlyMemory<byte> result = default;
        Exception? error = null;
        try
        {
            var arguments = Arguments(task, body.Args, body.Kwargs);
            var context = new TaskContext(id, name, delivery.Queue, message.Retries + 1, task.MaxRetries, DateTimeOffset.UtcNow, message.Eta);
            await using var invocation = new TaskInvocation(services, context, arguments, run.Token);
            result = await task.Invoker(invocation).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            _revoked.Ended(id);
        }

        if (error is OperationCanceledException && _hardStop.IsCancellationRequested)
        {
            throw error;
        }

        if (error is null)
        {
            var json = result.IsEmpty ? null : JsonNode.Parse(MessagePackSerializer.ConvertToJson(result, TaskSerializer.Options));
            await _channel.SettleAsync(id, ResultMeta.Create(id, CeleryStates.Success, json, null, message, DateTime.UtcNow), delivery.Tag).ConfigureAwait(false);
            return;
        }

        if (error is OperationCanceledException && _revoked.IsRevoked(id))
        {
            await RevokedAsync(delivery, message, "terminated").ConfigureAwait(false);
            return;
        }

        if (error is OperationCanceledException && task.Timeout is { } timeout && run.IsCancellationRequested)
        {
            error = new TaskTimeoutException(name, timeout);
        }

        var exception = ResultMeta.Exception(error);
        if (error is not TaskArgumentException && message.Retries < task.MaxRetries)
        {
            // Celery's retry: the same message again with retries counted and an ETA, the RETRY
            // state stored, and this delivery acknowledged, in one step.
            var eta = DateTimeOffset.UtcNow + global::TypedTasks.Worker.RetryPolicy.Delay(task.RetryDelay, message.Retries, Random.Shared.NextDouble());
            Log.Retrying(logger, error, name, id, eta);
            var meta = ResultMeta.Create(id, CeleryStates.Retry, exception, error.ToString(), message, DateTime.UtcNow);
            await _channel.SettleAsync(id, meta, delivery.Tag, delivery.Queue, Envelope.Retry(message, eta)).ConfigureAwait(false);
            return;
        }

        Log.Failed(logger, error, name, id);
        await _channel.SettleAsync(id, ResultMeta.Create(id, CeleryStates.Failure, exception, error.ToString(), message, DateTime.UtcNow), delivery.Tag).ConfigureAwait(false);
    }

    /// <summary>
    /// The arguments of a Celery call in the order the task's invoker reads them: positional ones
    /// first, then each remaining parameter from the keyword arguments by its name; as MessagePack.
    /// </summary>
    internal static ReadOnlyMemory<byte> Arguments(TaskDescriptor task, JsonArray args, JsonObject kwargs)
    {
        var names = task.ParameterNames;
        if (names is null)
        {
            if (kwargs.Count > 0)
            {
                throw new TaskArgumentException($"Task {task.Name} was built without parameter names, so it takes positional arguments only, but the message carries keyword arguments {string.Join(", ", kwargs.Select(k => k.Key))}.");
            }

            return MessagePackSerializer.ConvertFromJson(args.ToJsonString(), TaskSerializer.Options);
        }

        if (args.Count > names.Count)
        {
            throw new TaskArgumentException($"Task {task.Name} takes {names.Count} argument(s) but the message carries {args.Count} positional argument(s).");
        }

        var unknown = kwargs.Select(k => k.Key).Where(k => !names.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new TaskArgumentException($"Task {task.Name} has no parameter named {string.Join(", ", unknown)} (its parameters: {string.Join(", ", names)}).");
        }

        var values = new JsonArray();
        for (var i = 0; i < names.Count; i++)
        {
            var fromKwargs = kwargs.TryGetPropertyValue(names[i], out var named);
            if (i < args.Count && fromKwargs)
            {
                throw new TaskArgumentException($"Task {task.Name} got argument '{names[i]}' both by position and by keyword.");
            }

            if (i >= args.Count && !fromKwargs)
            {
                throw new TaskArgumentException($"Task {task.Name} is missing argument '{names[i]}' (position {i}, or keyword '{names[i]}').");
            }

            values.Add((i < args.Count ? args[i] : named)?.DeepClone());
        }

        return MessagePackSerializer.ConvertFromJson(values.ToJsonString(), TaskSerializer.Options);
    }

    private async Task RevokedAsync(Delivery delivery, CeleryMessage message, string reason)
    {
        var meta = ResultMeta.Create(message.Id!, CeleryStates.Revoked, ResultMeta.Exception("TaskRevokedError", reason, "celery.exceptions"), null, message, DateTime.UtcNow);
        await _channel.SettleAsync(message.Id, meta, delivery.Tag).ConfigureAwait(false);
    }

    /// <summary>Dead-letters a message that must not run, with its reason, acknowledging it in the same step; the caller's .get() fails with the reason.</summary>
    private async Task RefuseAsync(Delivery delivery, CeleryMessage? message, RefusedMessageException refused)
    {
        var deadLetters = _channel.DeadLetterList(delivery.Queue);
        Log.Refused(logger, delivery.Queue, message?.Id, deadLetters, refused.Message);
        var id = message?.Id;
        var meta = id is null ? null : ResultMeta.Create(id, CeleryStates.Failure, ResultMeta.Exception(refused.ExcType, refused.Message, refused.ExcModule), null, message, DateTime.UtcNow);
        await _channel.SettleAsync(id, meta, delivery.Tag, deadLetters, KombuChannel.DeadLetter(refused.Message, delivery.Queue, delivery.Raw)).ConfigureAwait(false);
    }

    private async Task PutBackAsync(string tag)
    {
        try
        {
            await _channel.RestoreAsync(tag).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.RedisFailed(logger, ex);
        }
        finally
        {
            _held.TryRemove(tag, out _);
        }
    }

    /// <summary>Keeps the fetch times of held messages fresh and restores messages other workers left past the visibility timeout.</summary>
    private async Task UpkeepAsync(CancellationToken stoppingToken)
    {
        var visibility = client.Options.VisibilityTimeout;
        var refreshEvery = TimeSpan.FromTicks(Math.Max(visibility.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks));
        var restoreEvery = options.RestoreInterval ?? TimeSpan.FromTicks(Math.Min(visibility.Ticks / 10, TimeSpan.FromSeconds(10).Ticks));
        var lastRestore = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(refreshEvery.Ticks, restoreEvery.Ticks)));
        var lastRefresh = DateTimeOffset.MinValue;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = DateTimeOffset.UtcNow;
                try
                {
                    if (now - lastRefresh >= refreshEvery)
                    {
                        lastRefresh = now;
                        await _channel.RefreshAsync([.. _held.Keys]).ConfigureAwait(false);
                    }

                    if (now - lastRestore >= restoreEvery)
                    {
                        lastRestore = now;
                        var count = await _channel.RestoreExpiredAsync(_held.Keys.ToHashSet(StringComparer.Ordinal)).ConfigureAwait(false);
                        if (count > 0)
                        {
                            Log.Restored(logger, count);
                        }
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or JsonException)
                {
                    Log.RedisFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>A pidbox broadcast: a revoke is honoured, other control commands are Python workers' business.</summary>
    private void OnBroadcast(RedisValue raw)
    {
        try
        {
            var envelope = JsonNode.Parse((string)raw!) as JsonObject;
            var body = envelope?["body"]?.GetValue<string>();
            if (body is null)
            {
                return;
            }

            var bytes = (envelope?["properties"] as JsonObject)?["body_encoding"]?.GetValue<string>() == "base64"
                ? Convert.FromBase64String(body)
                : Encoding.UTF8.GetBytes(body);
            if (JsonNode.Parse(bytes) is not JsonObject command || command["method"]?.GetValue<string>() != "revoke")
            {
                return;
            }

            var arguments = command["arguments"] as JsonObject;
            var terminate = arguments?["terminate"] is JsonValue t && t.TryGetValue(out bool yes) && yes;
            var ids = arguments?["task_id"] switch
            {
                JsonArray list => list.Select(n => n?.GetValue<string>()).OfType<string>().ToList(),
                JsonValue one when one.TryGetValue(out string? id) => [id],
                _ => new List<string>(),
            };
            foreach (var id in ids)
            {
                _revoked.Revoke(id, terminate);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            Log.BadBroadcast(logger, ex);
        }
    }
}

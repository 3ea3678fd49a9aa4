using System;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// One pub/sub subscription on the shared connection, made on first use (so a host starts while
/// Redis is down) and at most once; StackExchange.Redis renews it after a reconnect. Its messages
/// are handled concurrently, or one at a time in the order they came when <paramref name="ordered"/>.
/// </summary>
internal sealed class LazySubscription(IConnectionMultiplexer connection, RedisChannel channel, Action<RedisChannel, RedisValue> handler, bool ordered = false) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _subscribed;
    private ChannelMessageQueue? _queue;

    /// <summary>Subscribes unless already subscribed; throws TransportException while Redis is unreachable.</summary>
    public async Task EnsureAsync()
    {
        if (_subscribed)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_subscribed)
            {
                if (ordered)
                {
                    _queue = await Transient.Run(connection.GetSubscriber().SubscribeAsync(channel)).ConfigureAwait(false);
                    _queue.OnMessage(message => handler(message.Channel, message.Message));
                }
                else
                {
                    await Transient.Run(connection.GetSubscriber().SubscribeAsync(channel, handler)).ConfigureAwait(false);
                }

                _subscribed = true;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscribed)
        {
            try
            {
                if (_queue is { } queue)
                {
                    await queue.UnsubscribeAsync().ConfigureAwait(false);
                }
                else
                {
                    await connection.GetSubscriber().UnsubscribeAsync(channel, handler).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (Transient.IsTransient(ex) || ex is ObjectDisposedException)
            {
                // The connection is going away anyway.
            }
        }

        _gate.Dispose();
    }
}

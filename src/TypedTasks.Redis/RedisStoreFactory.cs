using System;
using StackExchange.Redis;
using TypedTasks.Store;

namespace TypedTasks.Redis;

/// <summary>
/// Builds the Redis task store over a connection of its own. Found by name when only
/// configuration (<c>TypedTasks:Redis</c>) asks for Redis.
/// </summary>
public sealed class RedisStoreFactory : ITaskStoreFactory
{
    /// <inheritdoc/>
    public ITaskStore Create(IServiceProvider services, string connectionString, TimeSpan resultTtl)
        => RedisTransport.Create(services, ConnectionMultiplexer.Connect(RedisTransport.Parse(connectionString)), ownsConnection: true, configure: null, resultTtl);
}

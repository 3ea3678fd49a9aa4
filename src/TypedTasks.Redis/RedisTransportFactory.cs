using System;
using StackExchange.Redis;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// Builds the Redis broker and backend over one shared connection. Also found by name when only
/// configuration (<c>TypedTasks:Redis</c>) asks for Redis.
/// </summary>
public sealed class RedisTransportFactory : ITaskTransportFactory
{
    /// <inheritdoc/>
    public TaskTransport Create(IServiceProvider services, string connectionString, TimeSpan resultTtl)
        => RedisTransport.Create(services, ConnectionMultiplexer.Connect(RedisTransport.Parse(connectionString)), ownsConnection: true, configure: null, resultTtl);
}

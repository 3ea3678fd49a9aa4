using System;
using StackExchange.Redis;
using TypedTasks.Redis;

namespace TypedTasks;

/// <summary>Chooses the Redis task store: <c>AddTypedTasks(o => o.UseRedis("localhost:6379"))</c>.</summary>
public static class RedisTypedTasksOptionsExtensions
{
    /// <summary>
    /// Uses Redis through a StackExchange.Redis connection string: hosts, <c>password=</c>,
    /// <c>user=</c> (ACL), <c>ssl=true</c>, <c>defaultDatabase=</c> and the rest of its options.
    /// The connection is not required at start: the host starts and connects when Redis is up.
    /// </summary>
    public static TypedTasksOptions UseRedis(this TypedTasksOptions options, string configuration, Action<RedisTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        return options.UseRedis(RedisTransport.Parse(configuration), configure);
    }

    /// <summary>Uses Redis through StackExchange.Redis options (TLS certificates, ACL users, timeouts...).</summary>
    public static TypedTasksOptions UseRedis(this TypedTasksOptions options, ConfigurationOptions configuration, Action<RedisTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        return options.UseStore(services => RedisTransport.Create(services, ConnectionMultiplexer.Connect(configuration), ownsConnection: true, configure));
    }

    /// <summary>Uses Redis through a connection the application already has; TypedTasks does not dispose it.</summary>
    public static TypedTasksOptions UseRedis(this TypedTasksOptions options, IConnectionMultiplexer connection, Action<RedisTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        return options.UseStore(services => RedisTransport.Create(services, connection, ownsConnection: false, configure));
    }
}

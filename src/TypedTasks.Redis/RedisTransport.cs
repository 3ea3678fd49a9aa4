using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TypedTasks.Redis;
using TypedTasks.Transport;

namespace TypedTasks
{
    /// <summary>Chooses the Redis transport: <c>AddTypedTasks(o => o.UseRedis("localhost:6379"))</c>.</summary>
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
            return options.UseTransport(services => RedisTransport.Create(services, ConnectionMultiplexer.Connect(configuration), ownsConnection: true, configure));
        }

        /// <summary>Uses Redis through a connection the application already has; TypedTasks does not dispose it.</summary>
        public static TypedTasksOptions UseRedis(this TypedTasksOptions options, IConnectionMultiplexer connection, Action<RedisTransportOptions>? configure = null)
        {
            ArgumentNullException.ThrowIfNull(options);
            ArgumentNullException.ThrowIfNull(connection);
            return options.UseTransport(services => RedisTransport.Create(services, connection, ownsConnection: false, configure));
        }
    }
}

namespace TypedTasks.Redis
{
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

    internal static class RedisTransport
    {
        public const string Section = "TypedTasks:RedisTransport";

        public static ConfigurationOptions Parse(string configuration)
        {
            var options = ConfigurationOptions.Parse(configuration);

            // A worker or producer must start, and keep running, while Redis is down; it
            // connects (and reconnects) in the background.
            if (!configuration.Contains("abortConnect", StringComparison.OrdinalIgnoreCase))
            {
                options.AbortOnConnectFail = false;
            }

            return options;
        }

        public static TaskTransport Create(IServiceProvider services, IConnectionMultiplexer connection, bool ownsConnection, Action<RedisTransportOptions>? configure, TimeSpan? resultTtl = null)
        {
            var options = new RedisTransportOptions();
            services.GetService<IConfiguration>()?.GetSection(Section).Bind(options);
            configure?.Invoke(options);
            options.Validate();
            var ttl = resultTtl ?? services.GetService<IOptions<TypedTasksOptions>>()?.Value.ResultTtl ?? TaskDefaults.ResultTtl;
            var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger("TypedTasks.Redis") ?? NullLogger.Instance;
            var keys = new RedisKeys(options.KeyPrefix);
            return new TaskTransport(
                new RedisBroker(connection, ownsConnection, keys, options, time, logger),
                new RedisResultBackend(connection, keys, options, ttl, time));
        }
    }
}

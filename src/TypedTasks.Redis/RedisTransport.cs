using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TypedTasks.Transport;

namespace TypedTasks.Redis
{
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

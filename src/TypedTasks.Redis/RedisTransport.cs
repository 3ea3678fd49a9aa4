using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TypedTasks.Redis.Store;

namespace TypedTasks.Redis
{
    /// <summary>How a host makes its Redis task store: from configuration, code, or a connection of its own.</summary>
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

        public static RedisTaskStore Create(IServiceProvider services, IConnectionMultiplexer connection, bool ownsConnection, Action<RedisTransportOptions>? configure, TimeSpan? resultTtl = null)
        {
            var options = new RedisTransportOptions();
            services.GetService<IConfiguration>()?.GetSection(Section).Bind(options);
            configure?.Invoke(options);
            var ttl = resultTtl ?? services.GetService<IOptions<TypedTasksOptions>>()?.Value.ResultTtl ?? TaskDefaults.ResultTtl;
            return new RedisTaskStore(connection, ownsConnection, options, ttl, services.GetService<TimeProvider>());
        }
    }
}

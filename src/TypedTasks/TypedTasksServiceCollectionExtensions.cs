using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks;

/// <summary>Registers TypedTasks in a service collection.</summary>
public static class TypedTasksServiceCollectionExtensions
{
    internal const string Section = "TypedTasks";
    private const string RedisFactoryType = "TypedTasks.Redis.RedisStoreFactory, TypedTasks.Redis";

    /// <summary>
    /// Adds the TypedTasks client, bound from the <c>TypedTasks</c> configuration section and then
    /// <paramref name="configure"/>. Every generated task of the application and of the task
    /// libraries it references is found without a registration line. When the host starts, its
    /// client becomes <see cref="TaskClient.Current"/>, which the generated proxies use. Also adds
    /// <see cref="Inspection.ITaskInspector"/>, to look at and act on queues, workers and tasks, and
    /// <see cref="Scheduling.ITaskSchedules"/>, to make and manage schedules.
    /// </summary>
    public static TypedTasksBuilder AddTypedTasks(this IServiceCollection services, Action<TypedTasksOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptionsFrom(Section, configure);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(CreateStore);
        services.TryAddSingleton(sp => new QueueCoverage(
            sp.GetRequiredService<StoreHandle>().Store,
            sp.GetRequiredService<IOptions<TypedTasksOptions>>().Value.WorkerCheckDelay,
            sp.GetRequiredService<TimeProvider>(),
            (ILogger?)sp.GetService<ILoggerFactory>()?.CreateLogger<TaskClient>() ?? NullLogger.Instance));
        services.TryAddSingleton(sp =>
        {
            var store = sp.GetRequiredService<StoreHandle>().Store;
            var options = sp.GetRequiredService<IOptions<TypedTasksOptions>>().Value;
            var check = options.WorkerCheckDelay != System.Threading.Timeout.InfiniteTimeSpan;
            return new TaskClient(store, sp.GetRequiredService<TimeProvider>())
            {
                Coverage = check ? sp.GetRequiredService<QueueCoverage>() : null,
                MaxMessageSize = options.MaxMessageSize,
            };
        });

        // What tools see and do (the CLI and the dashboard use the same), over the host's store.
        services.TryAddSingleton(sp => Inspection.TaskInspectorFactory.Create(sp.GetRequiredService<StoreHandle>().Store, sp.GetRequiredService<TimeProvider>()));

        // Schedules over the host's store, with this application's [Periodic] tasks listed even before a worker stored them.
        services.TryAddSingleton<Scheduling.ITaskSchedules>(sp => new Scheduling.TaskSchedules(sp.GetRequiredService<StoreHandle>().Store, sp.GetRequiredService<TimeProvider>(), TaskCatalog.BuildTable()));

        // Registered before any worker, so that the client is current before tasks run.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CurrentClientService>());
        return new TypedTasksBuilder(services);
    }

    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from a configuration section when the host has an
    /// <see cref="IConfiguration"/> (a bare service collection has none), then applies the code.
    /// </summary>
    internal static void AddOptionsFrom<TOptions>(this IServiceCollection services, string section, Action<TOptions>? configure)
        where TOptions : class
    {
        services.AddOptions();
        services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureOptions<TOptions>(
            options => sp.GetService<IConfiguration>()?.GetSection(section).Bind(options)));
        if (configure is not null)
        {
            services.Configure(configure);
        }
    }

    private static StoreHandle CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<TypedTasksOptions>>().Value;
        options.Validate();
        if (options.StoreFactory is { } chosen)
        {
            return new StoreHandle(chosen(services), options.OwnsStore);
        }

        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            return new StoreHandle(new InMemory.InMemoryTaskStore(options.ResultTtl, services.GetRequiredService<TimeProvider>()), owned: true);
        }

        // Configuration alone names Redis: find the Redis package's factory by name, the one place
        // a type is looked up by name, and only for configuration, never for a message.
        var factoryType = Type.GetType(RedisFactoryType, throwOnError: false)
            ?? throw new InvalidOperationException(
                "TypedTasks:Redis is set, but the TypedTasks.Redis package is not referenced by the application. Add a reference to TypedTasks.Redis, or remove the setting to use the in-memory store.");
        var factory = (ITaskStoreFactory)Activator.CreateInstance(factoryType)!;
        return new StoreHandle(factory.Create(services, options.Redis, options.ResultTtl), owned: true);
    }

    /// <summary>The host's store, and whether the host disposes it (the container disposes this handle, never a store it was given).</summary>
    internal sealed class StoreHandle(ITaskStore store, bool owned) : IAsyncDisposable
    {
        public ITaskStore Store => store;

        public ValueTask DisposeAsync() => owned ? store.DisposeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>Makes the host's client current while the host runs.</summary>
    private sealed class CurrentClientService(TaskClient client) : IHostedService
    {
        public System.Threading.Tasks.Task StartAsync(System.Threading.CancellationToken cancellationToken)
        {
            TaskClient.MakeCurrent(client);
            return System.Threading.Tasks.Task.CompletedTask;
        }

        public System.Threading.Tasks.Task StopAsync(System.Threading.CancellationToken cancellationToken)
        {
            TaskClient.Retire(client);

            // A producer that stops before its checks were due still warns about what it sent.
            return client.Coverage?.FlushAsync(cancellationToken) ?? System.Threading.Tasks.Task.CompletedTask;
        }
    }
}

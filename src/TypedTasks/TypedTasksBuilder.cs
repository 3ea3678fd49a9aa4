using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using TypedTasks.Worker;

namespace TypedTasks;

/// <summary>Returned by <c>AddTypedTasks</c>: adds a worker to the same host.</summary>
public sealed class TypedTasksBuilder
{
    internal TypedTasksBuilder(IServiceCollection services) => Services = services;

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Runs a worker in this host, bound from <c>TypedTasks:Worker</c> and then <paramref name="configure"/>.
    /// It runs every task found by <c>AddTypedTasks</c>; omit it in producer-only apps.
    /// </summary>
    public TypedTasksBuilder AddWorker(Action<WorkerOptions>? configure = null)
    {
        Services.AddOptionsFrom(TypedTasksServiceCollectionExtensions.Section + ":Worker", configure);

        Services.TryAddSingleton<WorkerStatus>();
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, WorkerService>());
        return this;
    }
}

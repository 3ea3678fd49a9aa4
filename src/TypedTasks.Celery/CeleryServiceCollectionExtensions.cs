using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks.Celery.Worker;

namespace TypedTasks.Celery;

/// <summary>Registers the Celery client and the .NET worker for Celery queues.</summary>
public static class CeleryServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="CeleryClient"/> on the Redis <paramref name="configure"/> names, made
    /// <see cref="CeleryClient.Current"/> (for <c>CeleryTasks</c> proxies) when the host starts.
    /// </summary>
    public static IServiceCollection AddCelery(this IServiceCollection services, Action<CeleryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(_ =>
        {
            var options = new CeleryOptions();
            configure(options);
            return CeleryClient.Create(options);
        });
        services.AddHostedService<CurrentCeleryClient>();
        return services;
    }

    /// <summary>
    /// Runs a worker that consumes Celery queues and runs the <c>[Task]</c> methods named like the
    /// messages' tasks (<c>[Task("proj.tasks.add")]</c>). Needs <see cref="AddCelery"/>.
    /// </summary>
    public static IServiceCollection AddCeleryWorker(this IServiceCollection services, Action<CeleryWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new CeleryWorkerOptions();
        configure?.Invoke(options);
        services.AddHostedService(sp => new CeleryWorker(sp.GetRequiredService<CeleryClient>(), options, sp, sp.GetRequiredService<ILogger<CeleryWorker>>()));
        return services;
    }
}

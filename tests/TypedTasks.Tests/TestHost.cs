using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Tests;

/// <summary>A started host with TypedTasks on the in-memory broker, its client, and its services.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private TestHost(IHost host) => Host = host;

    public IHost Host { get; }

    public TaskClient Client => Host.Services.GetRequiredService<TaskClient>();

    public static async Task<TestHost> StartAsync(
        Action<WorkerOptions>? worker = null,
        Action<IServiceCollection>? services = null,
        Action<TypedTasksOptions>? options = null,
        Dictionary<string, string?>? configuration = null,
        bool withWorker = true)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        var typed = builder.Services.AddTypedTasks(options ?? (o => o.UseInMemory()));
        if (withWorker)
        {
            typed.AddWorker(worker ?? (w => w.Concurrency = 8));
        }

        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new TestHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(TimeSpan.FromSeconds(30));
        Host.Dispose();
    }
}

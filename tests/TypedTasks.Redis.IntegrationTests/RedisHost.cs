using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks.Redis.Store;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>A started host with TypedTasks on a real Redis, under a key prefix of its test's own.</summary>
internal sealed class RedisHost : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private RedisHost(IHost host, string prefix)
    {
        Host = host;
        Prefix = prefix;
    }

    public IHost Host { get; }

    public string Prefix { get; }

    public TaskClient Client => Host.Services.GetRequiredService<TaskClient>();

    public RedisTaskStore Store => (RedisTaskStore)Client.Store;

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<RedisHost> StartAsync(
        string endpoint,
        string? prefix = null,
        Action<WorkerOptions>? worker = null,
        bool withWorker = true,
        Action<RedisTransportOptions>? redis = null,
        Action<TypedTasksOptions>? options = null,
        Action<IServiceCollection>? services = null)
    {
        prefix ??= NewPrefix();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var typed = builder.Services.AddTypedTasks(o =>
        {
            options?.Invoke(o);
            o.UseRedis($"{endpoint},abortConnect=false", r =>
            {
                r.KeyPrefix = prefix;
                r.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
                r.WorkerTimeout = TimeSpan.FromSeconds(2);
                redis?.Invoke(r);
            });
        });
        if (withWorker)
        {
            typed.AddWorker(worker ?? (w => w.Concurrency = 8));
        }

        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new RedisHost(host, prefix);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(TimeSpan.FromSeconds(30));
        Host.Dispose();
    }
}

using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using TypedTasks.Testing;

namespace TypedTasks.Celery.Tests;

/// <summary>One real redis-server for the class, a client on it, and an in-process .NET worker on the default queue "celery".</summary>
public sealed class CeleryFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public ConnectionMultiplexer Connection { get; private set; } = null!;

    public CeleryClient Client { get; private set; } = null!;

    public string Url => $"redis://127.0.0.1:{Redis.Port}/0";

    private IHost _worker = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Connection = await Redis.ConnectAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddCelery(o => o.Connection = Connection);
        builder.Services.AddCeleryWorker(o => o.Concurrency = 4);
        _worker = builder.Build();
        await _worker.StartAsync();
        Client = _worker.Services.GetRequiredService<CeleryClient>();
    }

    public async Task DisposeAsync()
    {
        await _worker.StopAsync(TimeSpan.FromSeconds(5));
        _worker.Dispose();
        await Connection.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

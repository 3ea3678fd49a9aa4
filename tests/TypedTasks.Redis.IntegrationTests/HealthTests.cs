using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks.Testing;
using TypedTasks.TestWorker;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>Health with Redis up, down and back.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Health_follows_Redis_down_and_back_up()
    {
        await using var redis = await RedisServer.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddTypedTasks(o => o.UseRedis($"{redis.Endpoint},connectTimeout=500", r =>
        {
            r.KeyPrefix = RedisHost.NewPrefix();
            r.IdleFetchInterval = TimeSpan.FromMilliseconds(200);
        })).AddWorker();
        builder.Services.AddHealthChecks().AddTypedTasks(timeout: TimeSpan.FromSeconds(2), failingFor: TimeSpan.FromSeconds(2));
        using var host = builder.Build();
        await host.StartAsync();
        var checks = host.Services.GetRequiredService<HealthCheckService>();
        var client = host.Services.GetRequiredService<TaskClient>();
        Assert.Equal(3, await (await Tasks.Add.WithClient(client).EnqueueAsync(1, 2)).GetAsync(RedisHost.Wait));
        Assert.Equal(HealthStatus.Healthy, (await checks.CheckHealthAsync()).Status);

        redis.Kill();
        await Poll.UntilAsync(async () => (await checks.CheckHealthAsync()).Entries["typedtasks-broker"].Status == HealthStatus.Unhealthy, "the broker check fails");
        await Poll.UntilAsync(async () => (await checks.CheckHealthAsync()).Entries["typedtasks-worker"].Status == HealthStatus.Unhealthy, "the worker check fails");

        await redis.RestartAsync(TimeSpan.Zero);
        await Poll.UntilAsync(async () => (await checks.CheckHealthAsync()).Status == HealthStatus.Healthy, "everything is healthy again");
        Assert.Equal(7, await (await Tasks.Add.WithClient(client).EnqueueAsync(3, 4)).GetAsync(RedisHost.Wait));
        await host.StopAsync();
    }

}

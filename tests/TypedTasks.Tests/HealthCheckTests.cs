using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TypedTasks.Tests;

public sealed class HealthCheckTests
{
    [Fact]
    public async Task A_running_worker_on_a_reachable_broker_is_healthy_and_a_host_without_worker_says_so()
    {
        await using (var host = await TestHost.StartAsync(services: s => s.AddHealthChecks().AddTypedTasks()))
        {
            await (await Tasks.Add.WithClient(host.Client).EnqueueAsync(1, 1)).GetAsync(TestHost.Wait);
            var report = await host.Host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Healthy, report.Status);
            Assert.Equal(HealthStatus.Healthy, report.Entries["typedtasks-broker"].Status);
            Assert.True((long)report.Entries["typedtasks-worker"].Data["completed"] >= 1);
        }

        await using var producer = await TestHost.StartAsync(services: s => s.AddHealthChecks().AddTypedTasks(), withWorker: false);
        var producerReport = await producer.Host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, producerReport.Status);
        Assert.Equal("This host runs no worker.", producerReport.Entries["typedtasks-worker"].Description);
    }

    [Fact]
    public async Task A_stopped_worker_is_unhealthy()
    {
        var host = await TestHost.StartAsync(services: s => s.AddHealthChecks().AddTypedTasks());
        var checks = host.Host.Services.GetRequiredService<HealthCheckService>();
        await host.Host.StopAsync();
        var report = await checks.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["typedtasks-worker"].Status);
        host.Host.Dispose();
    }
}

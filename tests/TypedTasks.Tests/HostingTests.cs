using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TypedTasks.InMemory;

namespace TypedTasks.Tests;

/// <summary>Registration, configuration binding, and the clear errors of a wrong setup.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task Settings_bind_from_the_TypedTasks_configuration_section()
    {
        await using var host = await TestHost.StartAsync(
            worker: _ => { },
            options: _ => { },
            configuration: new()
            {
                ["TypedTasks:ResultTtl"] = "00:10:00",
                ["TypedTasks:Worker:Concurrency"] = "3",
                ["TypedTasks:Worker:Prefetch"] = "5",
                ["TypedTasks:Worker:Queues:0"] = "reports",
                ["TypedTasks:Worker:Queues:1"] = "default",
                ["TypedTasks:Worker:ShutdownTimeout"] = "00:00:07",
            });

        var worker = host.Host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        Assert.Equal(3, worker.Concurrency);
        Assert.Equal(5, worker.Prefetch);
        Assert.Equal(["reports", "default"], worker.Queues);
        Assert.Equal(TimeSpan.FromSeconds(7), worker.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromMinutes(10), host.Host.Services.GetRequiredService<IOptions<TypedTasksOptions>>().Value.ResultTtl);

        // With no Redis configured, the in-memory store is used and works.
        Assert.IsType<InMemoryTaskStore>(host.Client.Store);
        var sum = await Tasks.Add.WithClient(host.Client).EnqueueAsync(3, 4);
        Assert.Equal(7, await sum.GetAsync(TestHost.Wait));

        // The inspector from DI reads the same store.
        var inspector = host.Host.Services.GetRequiredService<TypedTasks.Inspection.ITaskInspector>();
        var details = await inspector.GetTaskAsync(sum.Id);
        Assert.Equal(TaskState.Succeeded, details!.State);
        Assert.Equal("7", details.Result);
    }

    [Fact]
    public async Task Code_wins_over_configuration()
    {
        await using var host = await TestHost.StartAsync(
            worker: w => w.Concurrency = 2,
            configuration: new() { ["TypedTasks:Worker:Concurrency"] = "9" });
        Assert.Equal(2, host.Host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.Concurrency);
    }

    [Fact]
    public async Task Configuring_Redis_without_the_Redis_package_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(options: _ => { }, configuration: new() { ["TypedTasks:Redis"] = "127.0.0.1:1" }));
        Assert.Contains("TypedTasks.Redis package is not referenced", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_worker_settings_are_a_clear_error_at_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(w => w.Concurrency = 0));
        Assert.Contains("TypedTasks:Worker:Concurrency must be at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_task_of_the_assembly_is_found_without_registration()
    {
        var table = TaskCatalog.BuildTable();
        Assert.Contains("tests.add", table.Keys);
        Assert.Contains("tests.greet-di", table.Keys);
        Assert.Equal("reports", table["tests.reports"].Queue);
        Assert.Equal(3, table["tests.flaky"].MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(50), table["tests.flaky"].RetryDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(200), table["tests.slow"].Timeout);
    }

    [Fact]
    public async Task A_bare_service_collection_without_configuration_works()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTypedTasks(o => o.UseInMemory()).AddWorker();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<TaskClient>();
        foreach (var service in provider.GetServices<IHostedService>())
        {
            await service.StartAsync(default);
        }

        Assert.Equal(9, await (await Tasks.Add.WithClient(client).EnqueueAsync(4, 5)).GetAsync(TestHost.Wait));
        foreach (var service in provider.GetServices<IHostedService>().Reverse())
        {
            await service.StopAsync(default);
        }
    }
}

/// <summary>Tests of the process-wide current client; they must not run beside each other.</summary>
[Collection(nameof(CurrentClientTests))]
[CollectionDefinition(nameof(CurrentClientTests), DisableParallelization = true)]
public sealed class CurrentClientTests
{
    [Fact]
    public async Task Proxies_use_the_client_of_the_host_that_started_last_and_fail_clearly_without_one()
    {
        await using (var first = await TestHost.StartAsync())
        {
            await using var second = await TestHost.StartAsync();
            Assert.Same(second.Client, TaskClient.Current);
            AsyncResult<int> sum = await Tasks.Add.EnqueueAsync(2, 3);
            int value = await sum.GetAsync(TestHost.Wait);
            Assert.Equal(5, value);
            Assert.Equal(TaskState.Succeeded, await second.Client.GetResult(sum.Id).GetStateAsync());
        }

        var error = Assert.Throws<InvalidOperationException>(() => TaskClient.Current);
        Assert.Contains("Start the host built with AddTypedTasks", error.Message, StringComparison.Ordinal);
    }
}

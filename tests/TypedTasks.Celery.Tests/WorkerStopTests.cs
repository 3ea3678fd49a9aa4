using System;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedTasks.Testing;

namespace TypedTasks.Celery.Tests;

/// <summary>A .NET worker that stops while it holds a message for its ETA puts it back in its queue, marked redelivered, as kombu does at shutdown.</summary>
public sealed class WorkerStopTests(CeleryFixture fixture) : IClassFixture<CeleryFixture>
{
    [Fact]
    public async Task A_message_held_for_its_countdown_goes_back_to_its_queue_when_the_worker_stops()
    {
        var db = fixture.Connection.GetDatabase();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddCelery(o => o.Connection = fixture.Connection);
        builder.Services.AddCeleryWorker(o => o.Queues.Add("held"));
        using var worker = builder.Build();
        await worker.StartAsync();

        var sent = await fixture.Client.SendTaskAsync<int>("proj.tasks.add", [1, 2], new CeleryEnqueueOptions { Queue = "held", Countdown = TimeSpan.FromMinutes(5) });
        await Poll.UntilAsync(async () => await db.HashLengthAsync("unacked") == 1, "the worker holding the message", TimeSpan.FromSeconds(10));
        Assert.Equal(0, await db.ListLengthAsync("held"));

        await worker.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, await db.HashLengthAsync("unacked"));
        Assert.Equal(0, await db.SortedSetLengthAsync("unacked_index"));
        var back = JsonNode.Parse((string)(await db.ListGetByIndexAsync("held", 0))!)!;
        Assert.Equal(sent.Id, back["headers"]!["id"]!.GetValue<string>());
        Assert.True(back["headers"]!["redelivered"]!.GetValue<bool>());
        Assert.Equal(TaskState.Pending, await sent.GetStateAsync());
    }
}

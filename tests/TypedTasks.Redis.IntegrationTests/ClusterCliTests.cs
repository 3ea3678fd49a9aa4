using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Redis.Store;
using TypedTasks.Serialization;
using TypedTasks.Store;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>The typedtasks tool on a 3-master Redis Cluster: every queue found and counted without listing keys on each primary.</summary>
public sealed class ClusterCliTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task Status_tasks_and_purge_see_queues_on_every_primary()
    {
        var prefix = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var queues = Enumerable.Range(0, 6).Select(i => $"q{i}").ToArray();
        await using var store = await RedisTaskStore.ConnectAsync(cluster.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        foreach (var (queue, i) in queues.Select((q, i) => (q, i)))
        {
            await store.EnqueueManyAsync(queue, [.. Enumerable.Range(0, i + 1).Select(_ => Task(queue))]);
        }

        var (exit, output) = await CliTests.Run(["--redis", cluster.Endpoint, "--prefix", prefix, "status", "--json"]);
        Assert.True(exit == 0, output);
        var listed = JsonDocument.Parse(output).RootElement.GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!, q => q.GetProperty("pending").GetInt32());
        Assert.Equal(queues.Select((q, i) => (q, i + 1)), listed.Select(p => (p.Key, p.Value)));

        var (pageExit, page) = await CliTests.Run(["--redis", cluster.Endpoint, "--prefix", prefix, "tasks", "q5", "--json"]);
        Assert.True(pageExit == 0, page);
        Assert.Equal(6, JsonDocument.Parse(page).RootElement.GetProperty("tasks").GetArrayLength());

        var (purgeExit, purged) = await CliTests.Run(["--redis", cluster.Endpoint, "--prefix", prefix, "purge", "q3", "--yes"]);
        Assert.True(purgeExit == 0, purged);
        Assert.Contains("Deleted 4 pending", purged, StringComparison.Ordinal);
        Assert.Equal(0, (await store.CountAsync("q3")).Pending);
        Assert.Equal(5, (await store.CountAsync("q4")).Pending);
    }

    private static TaskToEnqueue Task(string queue) => new(
        TaskEnvelope.Write(
            new EnvelopeHeader("it.add", DateTimeOffset.UtcNow, null, null, null),
            new Arguments(),
            MessagePackSerializerOptions.Standard),
        0);

    private readonly struct Arguments : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(2);
            writer.Write(1);
            writer.Write(2);
        }
    }
}

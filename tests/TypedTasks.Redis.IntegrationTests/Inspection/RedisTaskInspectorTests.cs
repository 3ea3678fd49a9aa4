using System;
using System.Threading.Tasks;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing.Inspection;

namespace TypedTasks.Redis.IntegrationTests.Inspection;

/// <summary>The inspector on the Redis task store: each store on a key prefix of its own (an empty store).</summary>
public abstract class RedisTaskInspectorTests : TaskInspectorTests
{
    protected abstract string Endpoint { get; }

    protected override async Task<ITaskStore> CreateStoreAsync()
        => await RedisTaskStore.ConnectAsync(Endpoint, new RedisTransportOptions { KeyPrefix = "inspect-" + Guid.NewGuid().ToString("N")[..8] });
}

/// <summary>The inspector on a single Redis server.</summary>
public sealed class StandaloneRedisTaskInspectorTests(RedisFixture redis) : RedisTaskInspectorTests, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>The inspector on a 3-master Redis Cluster: queues in different slots, read and changed without listing keys.</summary>
public sealed class ClusterRedisTaskInspectorTests(RedisClusterFixture cluster) : RedisTaskInspectorTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

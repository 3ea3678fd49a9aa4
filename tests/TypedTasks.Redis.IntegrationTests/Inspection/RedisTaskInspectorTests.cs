using System;
using System.Threading.Tasks;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing.Inspection;

namespace TypedTasks.Redis.IntegrationTests.Inspection;

/// <summary>The inspector on the Redis task store: each store on a key prefix of its own.</summary>
public sealed class RedisTaskInspectorTests(RedisFixture redis) : TaskInspectorTests, IClassFixture<RedisFixture>
{
    protected override async Task<ITaskStore> CreateStoreAsync()
        => await RedisTaskStore.ConnectAsync(redis.Server.Endpoint, new RedisTransportOptions { KeyPrefix = "inspect-" + Guid.NewGuid().ToString("N")[..8] });
}

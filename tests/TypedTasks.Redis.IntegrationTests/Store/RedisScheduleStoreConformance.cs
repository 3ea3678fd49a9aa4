using System;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing.StoreConformance;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>The schedule store conformance suite on the Redis store; each store gets a key prefix of its own (an empty store).</summary>
public abstract class RedisScheduleStoreConformance : ScheduleStoreConformance
{
    private ConnectionMultiplexer? _connection;

    protected abstract string Endpoint { get; }

    protected override async Task<ITaskStore> CreateStoreAsync()
    {
        _connection ??= await ConnectionMultiplexer.ConnectAsync(Endpoint);
        return new RedisTaskStore(_connection, new RedisTransportOptions { KeyPrefix = "ss" + Guid.NewGuid().ToString("N")[..10] });
    }

    protected override async Task CleanUpAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}

/// <summary>The schedule store suite on a single Redis server.</summary>
public sealed class StandaloneRedisScheduleStoreConformance(RedisFixture redis) : RedisScheduleStoreConformance, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>The schedule store suite on a 3-master Redis Cluster.</summary>
public sealed class ClusterRedisScheduleStoreConformance(RedisClusterFixture cluster) : RedisScheduleStoreConformance, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

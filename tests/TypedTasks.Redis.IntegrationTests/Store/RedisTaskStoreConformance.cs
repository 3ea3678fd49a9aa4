using System;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing.StoreConformance;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>The store conformance suite on the Redis task store; each store gets a key prefix of its own (an empty store).</summary>
public abstract class RedisTaskStoreConformance : TaskStoreConformance
{
    private ConnectionMultiplexer? _connection;

    protected abstract string Endpoint { get; }

    protected override async Task<ITaskStore> CreateStoreAsync(StoreSettings settings)
    {
        _connection ??= await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var shortest = settings.LeaseDuration < settings.WorkerTimeout ? settings.LeaseDuration : settings.WorkerTimeout;
        return new RedisTaskStore(_connection, new RedisTransportOptions
        {
            KeyPrefix = "sc" + Guid.NewGuid().ToString("N")[..10],
            LeaseDuration = settings.LeaseDuration,
            WorkerTimeout = settings.WorkerTimeout,
            HeartbeatInterval = shortest / 3,
            IdleFetchInterval = settings.IdleFetchInterval,
            FinalIndexLimit = settings.RecentCap,
            DeadLetterLimit = settings.FailedCap,
        }, settings.ResultTtl);
    }

    protected override async Task CleanUpAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}

/// <summary>The conformance suite on a single Redis server.</summary>
public sealed class StandaloneRedisTaskStoreConformance(RedisFixture redis) : RedisTaskStoreConformance, IClassFixture<RedisFixture>
{
    protected override string Endpoint => redis.Server.Endpoint;
}

/// <summary>The conformance suite on a 3-master Redis Cluster.</summary>
public sealed class ClusterRedisTaskStoreConformance(RedisClusterFixture cluster) : RedisTaskStoreConformance, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

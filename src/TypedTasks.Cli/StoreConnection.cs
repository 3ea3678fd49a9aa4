using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;

namespace TypedTasks.Cli;

/// <summary>Opens the Redis task store the way an application does, through its public API only.</summary>
internal static class StoreConnection
{
    public static async Task<ITaskStore> OpenAsync(ConfigurationOptions redis, string keyPrefix)
        => await RedisTaskStore.ConnectAsync(redis.ToString(includePassword: true), new RedisTransportOptions { KeyPrefix = keyPrefix });
}

using System;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>Turns Redis errors that a later call can outlive into <see cref="TransportException"/>.</summary>
internal static class Transient
{
    public static async Task<T> Run<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            throw new TransportException($"Redis could not be reached: {ex.Message}", ex);
        }
    }

    public static async Task Run(Task call)
    {
        try
        {
            await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            throw new TransportException($"Redis could not be reached: {ex.Message}", ex);
        }
    }

    public static bool IsTransient(Exception ex) => ex switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal),
        _ => false,
    };
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>Turns Redis errors that a later call can outlive into <see cref="TransportException"/>.</summary>
internal static partial class Transient
{
    /// <summary>What to check, for a host application (the CLI says its own).</summary>
    public const string Advice = "check that redis-server is running there and that the TypedTasks:Redis setting (or the connection string given to UseRedis) names it, with its password or user if it has one";

    public static async Task<T> Run<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            throw Unreachable(ex);
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
            throw Unreachable(ex);
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

    /// <summary>
    /// The one-line error a caller sees. The client's own text (a kilobyte of counters) stays in
    /// the inner exception; a connection string, and so a password, is never part of it.
    /// </summary>
    public static TransportException Unreachable(Exception ex)
        => new($"Redis at {Target(ex)} could not be reached ({Reason(ex)}): {Advice}.", ex);

    /// <summary>Why, in a word or two: the client's failure type, a timeout, or the server's error code.</summary>
    public static string Reason(Exception ex) => ex switch
    {
        TransportException { InnerException: { } inner } => Reason(inner),
        RedisConnectionException connection when connection.InnerException is RedisConnectionException cause && connection.FailureType == ConnectionFailureType.UnableToResolvePhysicalConnection => Reason(cause),
        RedisConnectionException connection => connection.FailureType.ToString(),
        RedisTimeoutException => "timeout",
        RedisServerException server => server.Message.Split(' ', 2)[0],
        _ => ex.GetType().Name,
    };

    /// <summary>Host:port, from the endpoint the client names in its error; never the connection string.</summary>
    public static string Target(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (EndpointInMessage().Match(e.Message) is { Success: true } match)
            {
                return match.Groups[1].Value;
            }
        }

        return "(the configured endpoint)";
    }

    /// <summary>Host:port of each endpoint, comma-separated.</summary>
    public static string Describe(IEnumerable<EndPoint> endpoints)
    {
        var text = string.Join(", ", endpoints.Select(e => e switch
        {
            DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            IPEndPoint ip => ip.ToString(),
            _ => e.ToString() ?? "?",
        }));
        return text.Length == 0 ? "(no endpoint given)" : text;
    }

    // StackExchange.Redis names the endpoint as "serverEndpoint: host:port" or "<failure> on host:port/<connection>".
    [GeneratedRegex(@"(?:serverEndpoint: | on )([^\s,/]+:\d+)")]
    private static partial Regex EndpointInMessage();
}

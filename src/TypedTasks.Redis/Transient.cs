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

    /// <summary>What to check when Redis refuses a write for memory.</summary>
    public const string MemoryAdvice = "check the server's maxmemory and maxmemory-policy (with noeviction, writes fail once maxmemory is reached; a policy that evicts would drop TypedTasks keys, so raise maxmemory instead), and TypedTasks:ResultTtl, which decides how long each task's state and result take memory";

    public static async Task<T> Run<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            throw ToTransportException(ex);
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
            throw ToTransportException(ex);
        }
    }

    /// <summary>Whether a later call may succeed: the server unreachable, busy starting or failing over, or out of memory for now.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException server => IsOutOfMemory(server)
            || server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>Redis refused a write because its used memory is above maxmemory (also from inside a script).</summary>
    public static bool IsOutOfMemory(Exception ex)
        => ex is RedisServerException server && (server.Message.StartsWith("OOM", StringComparison.Ordinal)
            || server.Message.Contains("OOM command not allowed", StringComparison.Ordinal));

    /// <summary>
    /// Whether the command was sent and no answer came, so that it may have been carried out: a
    /// timeout or a lost connection after sending. One that never left the client (waiting for a
    /// connection) was not carried out.
    /// </summary>
    public static bool IsOutcomeUnknown(Exception ex) => ex switch
    {
        RedisTimeoutException timeout => timeout.Commandstatus is CommandStatus.Sent or CommandStatus.Unknown,
        RedisConnectionException connection => connection.CommandStatus == CommandStatus.Sent,
        _ => false,
    };

    /// <summary>
    /// The one-line error a caller sees. The client's own text (a kilobyte of counters) stays in
    /// the inner exception; a connection string, and so a password, is never part of it.
    /// </summary>
    public static TransportException ToTransportException(Exception ex)
    {
        if (IsOutOfMemory(ex))
        {
            // The server's error names no endpoint; the message does not guess one.
            return new($"Redis is out of memory and refused a write (OOM): {MemoryAdvice}.", ex);
        }

        if (IsOutcomeUnknown(ex))
        {
            return new($"Redis at {Target(ex)} did not answer a command it was sent ({Reason(ex)}), so whether it was carried out is unknown: {Advice}, and that it is not paused or overloaded.", ex)
            {
                OutcomeUnknown = true,
            };
        }

        return new($"Redis at {Target(ex)} could not be reached ({Reason(ex)}): {Advice}.", ex);
    }

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

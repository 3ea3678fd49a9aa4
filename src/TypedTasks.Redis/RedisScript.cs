using System;
using System.Collections.Concurrent;
using System.Net;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// One Lua script of the task store (Store/Scripts/name.lua, behind the shared functions). Until a call has succeeded it is sent whole (EVAL,
/// which also caches it on the server); after that by its SHA1 (EVALSHA). A server that answers
/// NOSCRIPT (restarted, or a Cluster node seeing it first) gets the source again. Sending the
/// source on first use, rather than waiting for NOSCRIPT, keeps pipelined calls in the order they
/// were issued: a queue stays first in, first out.
/// </summary>
internal sealed class RedisScript
{
    private readonly string _source;
    private readonly byte[] _sha1;

    /// <summary>A script from its source (the task store prepends its shared functions).</summary>
    internal RedisScript(string name, string source)
    {
        Name = name;
        _source = source;
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(_source));
    }

    /// <summary>The text of an embedded resource of this assembly.</summary>
    internal static string Resource(string logicalName)
    {
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(logicalName)
            ?? throw new InvalidOperationException($"Embedded script {logicalName} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public string Name { get; }

    /// <summary>The server that a call on these keys goes to, chosen locally (no round trip); null when unknown.</summary>
    private static EndPoint? ServerOf(IDatabase database, RedisKey[] keys)
    {
        try
        {
            return database.Multiplexer.GetServer(keys.Length > 0 ? keys[0] : default).EndPoint;
        }
        catch (Exception ex) when (ex is RedisConnectionException or InvalidOperationException)
        {
            return null; // no server reachable for the key: send the source
        }
    }














    // The servers (a Cluster has several) known to hold the script.
    private readonly ConcurrentDictionary<EndPoint, byte> _cachedOn = new();

    public async Task<RedisResult> RunAsync(IDatabase database, RedisKey[] keys, RedisValue[] values)
    {
        var server = ServerOf(database, keys);
        if (server is null || !_cachedOn.ContainsKey(server))
        {
            var result = await database.ScriptEvaluateAsync(_source, keys, values).ConfigureAwait(false);
            if (server is not null)
            {
                _cachedOn.TryAdd(server, 0);
            }

            return result;
        }

        try
        {
            return await database.ScriptEvaluateAsync(_sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            _cachedOn.TryRemove(server, out _);
            return await database.ScriptEvaluateAsync(_source, keys, values).ConfigureAwait(false);
        }
    }
}

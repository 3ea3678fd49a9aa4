using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;

namespace TypedTasks.Redis;

/// <summary>
/// One Lua script of the task store (Store/Scripts/name.lua). Where the store's function library
/// is loaded on the server the call is an FCALL of its function; otherwise (until the library is
/// loaded there, or on a server without functions) the script goes as a script: until a call has
/// succeeded it is sent whole (EVAL, which also caches it on the server); after that by its SHA1
/// (EVALSHA). A server that answers NOSCRIPT (restarted, or a Cluster node seeing it first) gets
/// the source again; one that answers "Function not found" (restarted empty, failed over,
/// FUNCTION FLUSH: the function did not run) gets this call as a script and the library again.
/// Sending the source on first use, rather than waiting for NOSCRIPT or the library's load, keeps
/// pipelined calls in the order they were issued: a queue stays first in, first out.
/// </summary>
internal sealed class RedisScript
{
    private readonly string _source;
    private readonly byte[] _sha1;
    private readonly StoreLibrary? _library;
    private readonly string? _function;

    /// <summary>A script from its source (the task store puts its shared functions in front), and the library that holds it as a function.</summary>
    internal RedisScript(string name, string source, StoreLibrary? library = null)
    {
        Name = name;
        _source = source;
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(_source));
        _library = library;
        _function = library?.Prefix + name;
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

    /// <summary>The text sent by EVAL (for the task store's scripts, shared.lua in front).</summary>
    internal string Source => _source;

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

    // An ACL user may not run FCALL (checked before anything runs).
    private static bool IsFcallRefused(RedisServerException ex)
        => ex.Message.StartsWith("NOPERM", StringComparison.Ordinal) && ex.Message.Contains("'fcall'", StringComparison.OrdinalIgnoreCase);

    // FCALL function numkeys key... arg...; the keys as RedisKey, so that a Cluster routes the call by them.
    // The values go as what they hold (a string, bytes, a number), not as boxed RedisValues: an
    // enqueue sends eight per task, and a box of each was most of what the call allocated.
    private object[] FcallArguments(RedisKey[] keys, IReadOnlyList<RedisValue> values)
    {
        var arguments = new object[2 + keys.Length + values.Count];
        arguments[0] = _function!;
        arguments[1] = keys.Length;
        keys.CopyTo(arguments, 2);
        for (var i = 0; i < values.Count; i++)
        {
            arguments[2 + keys.Length + i] = values[i].Box() ?? values[i];
        }

        return arguments;
    }

    // The servers (a Cluster has several) known to hold the script.
    private readonly ConcurrentDictionary<EndPoint, byte> _cachedOn = new();

    public async Task<RedisResult> RunAsync(IDatabase database, RedisKey[] keys, IReadOnlyList<RedisValue> values)
    {
        var server = ServerOf(database, keys);
        if (server is not null && _library is not null && _library.IsLoaded(database, server))
        {
            try
            {
                return await database.ExecuteAsync("FCALL", FcallArguments(keys, values)).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("ERR Function not found", StringComparison.Ordinal) || IsFcallRefused(ex))
            {
                // The function did not run: this call goes as a script.
                _library.Lost(database, server, refused: IsFcallRefused(ex));
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("OOM", StringComparison.Ordinal))
            {
                // Over maxmemory Redis refuses a function that may write before it runs; a script
                // runs and is refused at its first write only: one that only reads (a count, an
                // idle fetch) answers as it did before functions.
            }
        }

        return await EvaluateAsync(database, server, keys, values as RedisValue[] ?? [.. values]).ConfigureAwait(false);
    }

    /// <summary>The call as a script: whole until a server is known to hold it, then by its SHA1.</summary>
    private async Task<RedisResult> EvaluateAsync(IDatabase database, EndPoint? server, RedisKey[] keys, RedisValue[] values)
    {
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

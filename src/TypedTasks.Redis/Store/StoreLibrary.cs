using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis.Store;

/// <summary>
/// The task store's scripts as one Redis function library (FUNCTION LOAD once per server, FCALL
/// per call): Scripts/shared.lua runs once when the library loads instead of on every call. The
/// library is made from the script files as they are: each one becomes the body of a function.
/// Its name and its functions' names carry a hash of its text, so that clients of two versions
/// of the store can share a server. A server is used through functions once the library is
/// loaded there; until then (and where functions are missing: Redis 6, or an ACL user denied
/// FUNCTION) the scripts go as before, by EVAL and EVALSHA.
/// </summary>
internal sealed class StoreLibrary
{
    private readonly string _text;

    // Per connection (its user may be refused what another's is allowed) and server.
    private readonly ConditionalWeakTable<IConnectionMultiplexer, Servers> _servers = new();

    /// <summary>A library of the scripts (name, text); those marked shared start with <paramref name="shared"/>'s begin.</summary>
    internal StoreLibrary(string shared, IEnumerable<(string Name, string Text, bool Shared)> scripts)
    {
        var functions = new StringBuilder();
        foreach (var (name, text, usesShared) in scripts)
        {
            // A script's text is the body of a function; `begin` sets the state of the call.
            functions.Append("\nredis.register_function('{tag}").Append(name).Append(usesShared
                ? "', function(keys, args)\nbegin(keys, args)\n"
                : "', function(KEYS, ARGV)\n").Append(text).Append("\nend)\n");
        }

        var body = shared + functions;
        var tag = "tt_" + Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(body)))[..12] + "_";
        Prefix = tag;
        Name = tag + "lib";
        _text = "#!lua name=" + Name + "\n" + body.Replace("{tag}", tag, StringComparison.Ordinal);
    }

    /// <summary>The library's name on the server (FUNCTION LIST, FUNCTION DELETE).</summary>
    public string Name { get; }

    /// <summary>What every function name of this library starts with.</summary>
    public string Prefix { get; }

    /// <summary>
    /// Whether calls to <paramref name="server"/> go by FCALL. The first call to a server starts
    /// loading the library there and goes by EVAL, as every call does until the load is done:
    /// calls are sent in the order they are made, never held back behind the load.
    /// </summary>
    public bool IsLoaded(IDatabase database, EndPoint server)
    {
        var servers = _servers.GetValue(database.Multiplexer, _ => new Servers());
        if (servers.State.TryGetValue(server, out var loaded))
        {
            return loaded;
        }

        if (servers.Loading.TryAdd(server, 0))
        {
            _ = LoadAsync(database.Multiplexer, servers, server);
        }

        return false;
    }

    /// <summary>
    /// The server answered "Function not found" (restarted empty, failed over, FUNCTION FLUSH):
    /// the library is loaded again; or NOPERM (this user may not call functions): scripts only.
    /// </summary>
    public void Lost(IDatabase database, EndPoint server, bool refused)
    {
        var servers = _servers.GetValue(database.Multiplexer, _ => new Servers());
        if (refused)
        {
            servers.State[server] = false;
        }
        else
        {
            servers.State.TryRemove(KeyValuePair.Create(server, true));
        }
    }

    private async Task LoadAsync(IConnectionMultiplexer connection, Servers servers, EndPoint endpoint)
    {
        try
        {
            if (await TryLoadAsync(connection.GetServer(endpoint)).ConfigureAwait(false) is { } loaded)
            {
                servers.State[endpoint] = loaded;
            }
        }
        finally
        {
            servers.Loading.TryRemove(endpoint, out _);
        }
    }

    /// <summary>Loads the library: true when it is there, false when the server has no functions for us, null when it could not be asked (tried again on a later call).</summary>
    internal async Task<bool?> TryLoadAsync(IServer server)
    {
        try
        {
            await server.ExecuteAsync("FUNCTION", "LOAD", _text).ConfigureAwait(false);
            return true;
        }
        catch (RedisServerException ex) when (ex.Message.Contains("already exists", StringComparison.Ordinal))
        {
            return true;
        }
        catch (RedisServerException)
        {
            // Redis 6 (unknown command), an ACL user without FUNCTION (NOPERM), or anything else
            // the server refuses: the same scripts go by EVAL, which reports their own errors.
            return false;
        }
        catch (Exception ex) when (Transient.IsTransient(ex))
        {
            return null;
        }
    }

    // true once the library is there, false where it cannot be loaded or called; a load under way has no entry yet.
    private sealed class Servers
    {
        public ConcurrentDictionary<EndPoint, bool> State { get; } = new();

        public ConcurrentDictionary<EndPoint, byte> Loading { get; } = new();
    }
}

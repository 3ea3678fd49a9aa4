using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// One embedded Lua script (Scripts/name.lua). It is sent by its SHA1 (EVALSHA); a server that does
/// not have it yet (first use, a restart, a new Cluster node) answers NOSCRIPT and gets the source
/// once (EVAL), which also caches it there.
/// </summary>
internal sealed class RedisScript
{
    private readonly string _source;
    private readonly byte[] _sha1;

    private RedisScript(string name)
    {
        Name = name;
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream($"TypedTasks.Redis.Scripts.{name}.lua")
            ?? throw new InvalidOperationException($"Embedded script {name}.lua is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        _source = reader.ReadToEnd();
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(_source));
    }

    public string Name { get; }

    public static RedisScript Enqueue { get; } = new("enqueue");

    public static RedisScript Schedule { get; } = new("schedule");

    public static RedisScript Fetch { get; } = new("fetch");

    public static RedisScript Requeue { get; } = new("requeue");

    public static RedisScript Retry { get; } = new("retry");

    public static RedisScript DeadLetter { get; } = new("deadletter");

    public static RedisScript Promote { get; } = new("promote");

    public static RedisScript Recover { get; } = new("recover");

    public static RedisScript SetState { get; } = new("set_state");

    public static RedisScript TryStart { get; } = new("try_start");

    public static RedisScript Cancel { get; } = new("cancel");

    public async Task<RedisResult> RunAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(_sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(_source, keys, values).ConfigureAwait(false);
        }
    }
}

using System;
using System.Linq;

namespace TypedTasks.Redis.Store;

/// <summary>
/// The task store's Lua scripts (Store/Scripts/name.lua), each behind Scripts/shared.lua: the
/// record format, the key names and the checks are written once. One function library holds
/// them all (StoreLibrary); each also stands alone, for a server without functions.
/// </summary>
internal static class StoreScript
{
    private const string Folder = "TypedTasks.Redis.Store.Scripts.";

    private static readonly string Shared = RedisScript.Resource(Folder + "shared.lua");

    // Every embedded script but shared.lua, so that a script added to the folder is in the library.
    private static readonly string[] Names = [.. typeof(StoreScript).Assembly.GetManifestResourceNames()
        .Where(r => r.StartsWith(Folder, StringComparison.Ordinal) && r.EndsWith(".lua", StringComparison.Ordinal))
        .Select(r => r[Folder.Length..^".lua".Length])
        .Where(name => name != "shared")
        .Order(StringComparer.Ordinal)];

    /// <summary>
    /// Every script as one function library; register.lua and the schedule scripts, which need no
    /// shared functions (their keys are outside the queues' slots), without begin. The schedule
    /// scripts are called by EVALSHA (Alone).
    /// </summary>
    public static StoreLibrary Library { get; } = new(Shared, [.. Names.Select(name => (name, Text(name), name != "register" && !name.StartsWith("schedule_", StringComparison.Ordinal)))]);

    public static RedisScript Enqueue { get; } = Load("enqueue");

    public static RedisScript Fetch { get; } = Load("fetch");

    public static RedisScript Complete { get; } = Load("complete");

    public static RedisScript Renew { get; } = Load("renew");

    public static RedisScript Recover { get; } = Load("recover");

    public static RedisScript Promote { get; } = Load("promote");

    public static RedisScript Cancel { get; } = Load("cancel");

    public static RedisScript Read { get; } = Load("read");

    public static RedisScript List { get; } = Load("list");

    public static RedisScript Count { get; } = Load("count");

    public static RedisScript Requeue { get; } = Load("requeue");

    public static RedisScript Delete { get; } = Load("delete");

    public static RedisScript Purge { get; } = Load("purge");

    public static RedisScript Migrate { get; } = Load("migrate");

    public static RedisScript Progress { get; } = Load("progress");
    public static RedisScript Join { get; } = Load("join");

    /// <summary>limits.lua.</summary>
    public static RedisScript Limits { get; } = Load("limits");

    /// <summary>held.lua.</summary>
    public static RedisScript Held { get; } = Load("held");

    /// <summary>locks.lua.</summary>
    public static RedisScript Locks { get; } = Load("locks");

    public static RedisScript Deliver { get; } = Load("deliver");

    /// <summary>Gives a worker its number (one key outside the queues' slots: no shared functions).</summary>
    public static RedisScript Register { get; } = new("register", Text("register"), Library);

    /// <summary>Stores a schedule (all schedules share one slot, outside the queues': no shared functions).</summary>
    public static RedisScript ScheduleUpsert { get; } = Alone("schedule_upsert");

    /// <summary>The compare-and-set advance of schedules, many in one call.</summary>
    public static RedisScript ScheduleAdvance { get; } = Alone("schedule_advance");

    /// <summary>The other compare-and-set changes of one schedule.</summary>
    public static RedisScript ScheduleChange { get; } = Alone("schedule_change");

    /// <summary>Reads every schedule.</summary>
    public static RedisScript ScheduleList { get; } = Alone("schedule_list");

    private static RedisScript Alone(string name)
        => new(name, RedisScript.Resource($"TypedTasks.Redis.Store.Scripts.{name}.lua"));

    // Standing alone, a script keeps its KEYS and ARGV (globals, which shared.lua's locals of the same names hide) and hands them to begin.
    private static RedisScript Load(string name)
        => new(name, "local EVAL_KEYS, EVAL_ARGV = KEYS, ARGV\n" + Shared + "\nbegin(EVAL_KEYS, EVAL_ARGV)\n" + Text(name), Library);

    private static string Text(string name) => RedisScript.Resource(Folder + name + ".lua");
}

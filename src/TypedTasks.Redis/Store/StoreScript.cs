namespace TypedTasks.Redis.Store;

/// <summary>
/// The task store's Lua scripts (Store/Scripts/name.lua), each with Scripts/shared.lua in front:
/// the record format, the key names and the checks are written once.
/// </summary>
internal static class StoreScript
{
    private static readonly string Shared = RedisScript.Resource("TypedTasks.Redis.Store.Scripts.shared.lua");

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

    /// <summary>Gives a worker its number (one key outside the queues' slots: no shared functions).</summary>
    public static RedisScript Register { get; } = new("register", RedisScript.Resource("TypedTasks.Redis.Store.Scripts.register.lua"));

    /// <summary>Stores a schedule (all schedules share one slot, outside the queues': no shared functions).</summary>
    public static RedisScript ScheduleUpsert { get; } = Alone("schedule_upsert");

    /// <summary>The compare-and-set changes of one schedule.</summary>
    public static RedisScript ScheduleChange { get; } = Alone("schedule_change");

    /// <summary>Reads every schedule.</summary>
    public static RedisScript ScheduleList { get; } = Alone("schedule_list");

    private static RedisScript Alone(string name)
        => new(name, RedisScript.Resource($"TypedTasks.Redis.Store.Scripts.{name}.lua"));

    private static RedisScript Load(string name)
        => new(name, Shared + RedisScript.Resource($"TypedTasks.Redis.Store.Scripts.{name}.lua"));
}

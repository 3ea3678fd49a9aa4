using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Celery.Protocol;

namespace TypedTasks.Celery.Worker;

/// <summary>
/// kombu's Redis transport as a consumer sees it: queues are lists (producers LPUSH, consumers take
/// from the right), priority steps 3, 6 and 9 are the lists <c>queue\x06\x16N</c>, and a fetched
/// message is kept until acknowledged in the hash <c>unacked</c> (delivery tag to
/// <c>[message, exchange, routing_key]</c>) and the sorted set <c>unacked_index</c> (delivery
/// tag scored by fetch time), from which any worker restores it once the visibility timeout has
/// passed. Every change that moves a message is one atomic step, so nothing is lost or doubled.
/// </summary>
internal sealed class KombuChannel
{
    public const string UnackedKey = "unacked";
    public const string UnackedIndexKey = "unacked_index";
    public const string UnackedMutexKey = "unacked_mutex";
    private const string Separator = "\x06\x16";
    private static readonly int[] PrioritySteps = [0, 3, 6, 9];

    // Pops the first message of the first non-empty list and records it unacknowledged in the same
    // step, as kombu's QoS.append does after its BRPOP: the stored value is the popped string itself
    // inside [message, exchange, routing_key], so a restore by kombu gives back the same message. A
    // message with no delivery tag cannot be tracked: it goes to the dead letter list at once.
    private const string FetchScript = """
        local n = #KEYS - 2
        for i = 1, n do
          local item = redis.call('RPOP', KEYS[i])
          if item then
            local ok, m = pcall(cjson.decode, item)
            local tag, ex, rk = nil, '', ''
            if ok and type(m) == 'table' and type(m.properties) == 'table' then
              tag = m.properties.delivery_tag
              local info = m.properties.delivery_info
              if type(info) == 'table' then ex = info.exchange; rk = info.routing_key end
            end
            local queue = string.match(KEYS[i], '^(.-)\6\22') or KEYS[i]
            if type(tag) ~= 'string' then
              local reason = 'the message is not a kombu envelope with properties.delivery_tag'
              redis.call('LPUSH', queue .. ARGV[2], cjson.encode({reason = reason, queue = queue, message = item}))
              return {queue, item, ''}
            end
            if type(ex) ~= 'string' then ex = '' end
            if type(rk) ~= 'string' then rk = '' end
            redis.call('ZADD', KEYS[n + 2], ARGV[1], tag)
            redis.call('HSET', KEYS[n + 1], tag, '[' .. item .. ', ' .. cjson.encode(ex) .. ', ' .. cjson.encode(rk) .. ']')
            return {queue, item, tag}
          end
        end
        return false
        """;

    // Settles a delivery in one step: stores the result meta unless the stored one is already
    // SUCCESS (Celery's backend keeps a success over any later write), publishes it on the key's
    // channel for waiting .get() calls, pushes a follow-up message (a retry, a dead letter) and
    // acknowledges. Any part may be absent (an empty argument).
    private const string SettleScript = """
        if ARGV[1] ~= '' then
          local current = redis.call('GET', KEYS[1])
          local done = false
          if current then
            local decode = cjson.decode
            if ARGV[4] == 'msgpack' then decode = cmsgpack.unpack end
            local ok, meta = pcall(decode, current)
            done = ok and type(meta) == 'table' and meta.status == 'SUCCESS'
          end
          if not done then
            if tonumber(ARGV[2]) > 0 then
              redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
            else
              redis.call('SET', KEYS[1], ARGV[1])
            end
            redis.call('PUBLISH', KEYS[1], ARGV[1])
          end
        end
        if ARGV[5] ~= '' then redis.call('LPUSH', KEYS[4], ARGV[5]) end
        if ARGV[3] ~= '' then
          redis.call('ZREM', KEYS[3], ARGV[3])
          redis.call('HDEL', KEYS[2], ARGV[3])
        end
        return 1
        """;

    private const string ReleaseMutexScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private readonly IDatabase _db;
    private readonly CeleryOptions _options;
    private readonly RedisKey[] _fetchKeys;

    public KombuChannel(CeleryClient client, IEnumerable<string> queues)
    {
        _db = client.Database;
        _options = client.Options;
        var names = queues.ToArray();
        // kombu's BRPOP order: every queue's plain list first, then each priority step in turn.
        _fetchKeys = [.. PrioritySteps.SelectMany(p => names.Select(q => (RedisKey)(p == 0 ? q : q + Separator + p))), UnackedKey, UnackedIndexKey];
    }

    /// <summary>Takes one message, recorded unacknowledged; null when every queue is empty.</summary>
    public async Task<Delivery?> FetchAsync()
    {
        var result = await _db.ScriptEvaluateAsync(FetchScript, _fetchKeys, [Now(), _options.DeadLetterSuffix]).ConfigureAwait(false);
        if (result.IsNull)
        {
            return null;
        }

        var parts = (RedisResult[])result!;
        return new Delivery((string)parts[0]!, (string)parts[1]!, (string)parts[2]!);
    }

    /// <summary>Stores a result meta (null: none), pushes <paramref name="push"/> to <paramref name="pushTo"/>, and acknowledges <paramref name="tag"/> (null: none), in one step.</summary>
    public Task SettleAsync(string? taskId, string? meta, string? tag, string? pushTo = null, string? push = null)
    {
        // Every branch a RedisValue of its own: mixed with a string, the bytes would be made a string
        // first (each byte from 0x80 a U+FFFD) before going back to a RedisValue.
        RedisValue stored = meta is null ? RedisValue.EmptyString
            : _options.ResultSerializer == "msgpack" ? (RedisValue)MessagePackSerializer.ConvertFromJson(meta)
            : (RedisValue)meta;
        var expires = (long)_options.ResultExpires.TotalSeconds;
        return _db.ScriptEvaluateAsync(
            SettleScript,
            [taskId is null ? "celery-task-meta-" : ResultMeta.Key(taskId), UnackedKey, UnackedIndexKey, pushTo ?? "unused"],
            [stored, expires, tag ?? "", _options.ResultSerializer, push ?? ""]);
    }

    /// <summary>The dead letter list of a queue.</summary>
    public string DeadLetterList(string queue) => queue + _options.DeadLetterSuffix;

    /// <summary>A dead letter: why, from where and when, and the message exactly as it was popped.</summary>
    public static string DeadLetter(string reason, string queue, string raw)
        => new JsonObject
        {
            ["reason"] = reason,
            ["queue"] = queue,
            ["dead_at"] = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["message"] = raw,
        }.ToJsonString();

    /// <summary>Moves the fetch time of messages this worker still holds to now, so that no worker restores them while it lives.</summary>
    public Task RefreshAsync(IReadOnlyCollection<string> tags)
    {
        if (tags.Count == 0)
        {
            return Task.CompletedTask;
        }

        var now = Now();
        return _db.SortedSetAddAsync(UnackedIndexKey, [.. tags.Select(t => new SortedSetEntry(t, now))], SortedSetWhen.Exists);
    }

    /// <summary>
    /// Puts back every message unacknowledged for longer than the visibility timeout, as kombu's
    /// QoS.restore_visible: under the <c>unacked_mutex</c> lock (shared with Python workers), each
    /// one in a transaction that holds only if the hash still has it unchanged. Returns how many.
    /// </summary>
    public async Task<int> RestoreExpiredAsync(IReadOnlySet<string> ownTags)
    {
        var token = Guid.NewGuid().ToString("N");
        if (!await _db.StringSetAsync(UnackedMutexKey, token, TimeSpan.FromSeconds(300), When.NotExists).ConfigureAwait(false))
        {
            return 0;
        }

        var restored = 0;
        try
        {
            var ceiling = Now() - _options.VisibilityTimeout.TotalSeconds;
            var expired = await _db.SortedSetRangeByScoreAsync(UnackedIndexKey, 0, ceiling).ConfigureAwait(false);
            foreach (var tag in expired)
            {
                try
                {
                    if (!ownTags.Contains(tag!) && await RestoreAsync(tag!).ConfigureAwait(false))
                    {
                        restored++;
                    }
                }
                catch (System.Text.Json.JsonException)
                {
                    // Not [message, exchange, routing_key]: no queue to put it back in. It stays
                    // for an operator (kombu's restore fails on it the same way).
                }
            }
        }
        finally
        {
            await _db.ScriptEvaluateAsync(ReleaseMutexScript, [UnackedMutexKey], [token]).ConfigureAwait(false);
        }

        return restored;
    }

    /// <summary>Puts one unacknowledged message back at the consuming end of its queue, marked redelivered, as kombu's restore_by_tag.</summary>
    public async Task<bool> RestoreAsync(string tag)
    {
        var stored = await _db.HashGetAsync(UnackedKey, tag).ConfigureAwait(false);
        var transaction = _db.CreateTransaction();
        transaction.AddCondition(stored.IsNull ? Condition.HashNotExists(UnackedKey, tag) : Condition.HashEqual(UnackedKey, tag, stored));
        _ = transaction.SortedSetRemoveAsync(UnackedIndexKey, tag);
        _ = transaction.HashDeleteAsync(UnackedKey, tag);
        if (!stored.IsNull && JsonNode.Parse((string)stored!) is JsonArray { Count: 3 } entry && entry[0] is JsonObject message)
        {
            if (message["headers"] is JsonObject headers)
            {
                headers["redelivered"] = true;
            }

            if (message["properties"] is JsonObject { } properties && properties["delivery_info"] is JsonObject info)
            {
                info["redelivered"] = true;
            }

            var exchange = entry[1]?.GetValue<string>() ?? "";
            var routingKey = entry[2]?.GetValue<string>() ?? "";
            foreach (var queue in await LookupAsync(exchange, routingKey).ConfigureAwait(false))
            {
                _ = transaction.ListRightPushAsync(queue, message.ToJsonString());
            }
        }

        return await transaction.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The queues a message of <paramref name="exchange"/> with <paramref name="routingKey"/> goes
    /// to: the routing key itself on the anonymous exchange (how Celery 5 sends to Redis), else the
    /// queues bound with that key in kombu's <c>_kombu.binding.&lt;exchange&gt;</c> set, else the
    /// routing key.
    /// </summary>
    private async Task<IReadOnlyList<string>> LookupAsync(string exchange, string routingKey)
    {
        if (exchange.Length == 0)
        {
            return [routingKey];
        }

        var bindings = await _db.SetMembersAsync("_kombu.binding." + exchange).ConfigureAwait(false);
        var queues = bindings
            .Select(b => ((string)b!).Split(Separator))
            .Where(p => p.Length == 3 && p[0] == routingKey)
            .Select(p => p[2])
            .Distinct()
            .ToList();
        return queues.Count > 0 ? queues : [routingKey];
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis;
using TypedTasks.Serialization;

namespace TypedTasks.Cli;

/// <summary>Reads what TypedTasks keeps in Redis (docs/redis-layout.md): queues, workers, messages.</summary>
internal sealed class RedisInspector(IConnectionMultiplexer connection, string prefix)
{
    private const int SearchLimit = 200_000;

    public RedisKeys Keys { get; } = new(prefix);

    public IConnectionMultiplexer Connection => connection;

    public IDatabase Db { get; } = connection.GetDatabase();

    public sealed record QueueCounts(string Name, long Pending, long Scheduled, long InFlight, long Dead);

    public sealed record WorkerInfo(string Id, string Host, long Pid, string[] Queues, long Concurrency, double HeartbeatAgeSeconds, long Done);

    /// <summary>Every queue that has a key, found by scanning every primary.</summary>
    public async Task<(SortedSet<string> Queues, Dictionary<string, List<RedisKey>> InFlight)> DiscoverAsync()
    {
        var queues = new SortedSet<string>(StringComparer.Ordinal);
        var inFlight = new Dictionary<string, List<RedisKey>>(StringComparer.Ordinal);
        var head = prefix + ":{";
        foreach (var server in connection.GetServers().Where(s => !s.IsReplica && s.IsConnected))
        {
            await foreach (var key in server.KeysAsync(Db.Database, pattern: head + "*}:*", pageSize: 1000))
            {
                var text = key.ToString();
                var close = text.IndexOf("}:", head.Length, StringComparison.Ordinal);
                if (close < 0)
                {
                    continue;
                }

                var queue = text[head.Length..close];
                queues.Add(queue);
                if (text.AsSpan(close + 2).StartsWith("inflight:", StringComparison.Ordinal))
                {
                    if (!inFlight.TryGetValue(queue, out var list))
                    {
                        inFlight[queue] = list = [];
                    }

                    list.Add(key);
                }
            }
        }

        return (queues, inFlight);
    }

    public async Task<List<QueueCounts>> QueuesAsync()
    {
        var (queues, inFlight) = await DiscoverAsync();
        var counts = new List<QueueCounts>();
        foreach (var queue in queues)
        {
            var pending = await Task.WhenAll(Keys.ReadyLists(queue).Select(k => Db.ListLengthAsync(k)));
            var flying = await Task.WhenAll(inFlight.GetValueOrDefault(queue, []).Select(k => Db.ListLengthAsync(k)));
            counts.Add(new QueueCounts(queue, pending.Sum(), await Db.SortedSetLengthAsync(Keys.Scheduled(queue)), flying.Sum(), await Db.ListLengthAsync(Keys.Dead(queue))));
        }

        return counts;
    }

    public async Task<List<WorkerInfo>> WorkersAsync(DateTimeOffset now)
    {
        var workers = new List<WorkerInfo>();
        foreach (var server in connection.GetServers().Where(s => !s.IsReplica && s.IsConnected))
        {
            await foreach (var key in server.KeysAsync(Db.Database, pattern: prefix + ":worker:*", pageSize: 1000))
            {
                var fields = (await Db.HashGetAllAsync(key)).ToDictionary(e => e.Name.ToString(), e => e.Value);
                if (fields.Count == 0)
                {
                    continue;
                }

                var beat = (long)fields.GetValueOrDefault("beat_ms", 0);
                workers.Add(new WorkerInfo(
                    key.ToString()[(prefix.Length + ":worker:".Length)..],
                    fields.GetValueOrDefault("host").ToString(),
                    (long)fields.GetValueOrDefault("pid", 0),
                    fields.GetValueOrDefault("queues").ToString().Split(',', StringSplitOptions.RemoveEmptyEntries),
                    (long)fields.GetValueOrDefault("concurrency", 0),
                    Math.Round((now - DateTimeOffset.FromUnixTimeMilliseconds(beat)).TotalSeconds, 1),
                    (long)fields.GetValueOrDefault("done", 0)));
            }
        }

        return [.. workers.OrderBy(w => w.Id, StringComparer.Ordinal)];
    }

    /// <summary>The message of a task, wherever it is now: waiting, scheduled, in flight or dead.</summary>
    public async Task<(string Queue, string Where, TaskEnvelope Envelope)?> FindMessageAsync(string id)
    {
        var (queues, inFlight) = await DiscoverAsync();
        var looked = 0;
        foreach (var queue in queues)
        {
            var places = new List<(string Where, Func<Task<RedisValue[]>> Read, int Skip)>
            {
                ("dead", () => Db.ListRangeAsync(Keys.Dead(queue)), -1),
                ("scheduled", () => Db.SortedSetRangeByRankAsync(Keys.Scheduled(queue)), 1),
            };
            places.AddRange(Keys.ReadyLists(queue).Select(k => ("pending", (Func<Task<RedisValue[]>>)(() => Db.ListRangeAsync(k)), 0)));
            places.AddRange(inFlight.GetValueOrDefault(queue, []).Select(k => ("in flight", (Func<Task<RedisValue[]>>)(() => Db.ListRangeAsync(k)), 1)));
            foreach (var (where, read, skip) in places)
            {
                foreach (var value in await read())
                {
                    if (++looked > SearchLimit)
                    {
                        return null;
                    }

                    var bytes = (byte[])value!;
                    ReadOnlyMemory<byte> body = skip switch
                    {
                        -1 => Unwrap(bytes),
                        1 => bytes.AsMemory(1),
                        _ => bytes,
                    };
                    if (TaskEnvelope.TryReadId(body) == id)
                    {
                        try
                        {
                            return (queue, where, TaskEnvelope.Read(body));
                        }
                        catch (InvalidEnvelopeException)
                        {
                            return null;
                        }
                    }
                }
            }
        }

        return null;
    }

    private static ReadOnlyMemory<byte> Unwrap(byte[] record)
    {
        try
        {
            return DeadLetterRecord.Read(record).Body;
        }
        catch (Exception ex) when (ex is InvalidOperationException or MessagePack.MessagePackSerializationException or System.IO.EndOfStreamException)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
    }
}

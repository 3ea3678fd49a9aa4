using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks;
using TypedTasks.Cli;
using TypedTasks.Redis;
using TypedTasks.Serialization;
using TypedTasks.Transport;

// typedtasks: look at and act on TypedTasks in Redis. Exit codes: 0 done, 1 refused or not
// found, 2 bad arguments, 3 Redis unreachable. Errors are one line on stderr, never a stack trace.
try
{
    return await Cli.RunAsync(args);
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"typedtasks: {ex.Message}");
    Console.Error.WriteLine(Cli.Usage);
    return 2;
}
catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or TransportException)
{
    Console.Error.WriteLine($"typedtasks: cannot reach Redis at {Cli.RedisTarget(args)}: {ex.Message.Split('\n')[0]}");
    return 3;
}
catch (Exception ex) when (ex is RedisServerException)
{
    Console.Error.WriteLine($"typedtasks: Redis refused: {ex.Message.Split('\n')[0]}");
    return 3;
}

namespace TypedTasks.Cli
{
    internal sealed class UsageException(string message) : Exception(message);

    internal static class Cli
    {
        public const string Usage = """
            usage: typedtasks [--redis HOST:PORT] [--prefix tt] COMMAND
              status [--json]                 queues (pending, scheduled, in flight, dead) and live workers
              inspect ID [--json]             a task's state, arguments, attempts, result or error
              dead list QUEUE [--json]        the dead letters of a queue, newest first
              dead retry QUEUE [--yes]        put every dead letter of a queue back into it
              dead purge QUEUE [--yes]        delete the dead letters of a queue
              purge QUEUE [--yes]             delete the waiting and scheduled messages of a queue
              cancel ID                       cancel a task (pending: never runs; running: its token is signalled)
            Redis comes from --redis or TYPEDTASKS_REDIS (any StackExchange.Redis connection string).
            """;

        private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

        public static string RedisTarget(string[] args) => Option(args, "--redis") ?? Environment.GetEnvironmentVariable("TYPEDTASKS_REDIS") ?? "(none)";

        public static async Task<int> RunAsync(string[] args)
        {
            var words = Positional(args);
            if (words.Count == 0 || words[0] is "help" or "--help" or "-h")
            {
                Console.WriteLine(Usage);
                return words.Count == 0 ? 2 : 0;
            }

            var redis = Option(args, "--redis") ?? Environment.GetEnvironmentVariable("TYPEDTASKS_REDIS")
                ?? throw new UsageException("no Redis given: pass --redis HOST:PORT or set TYPEDTASKS_REDIS");
            var prefix = Option(args, "--prefix") ?? "tt";
            var json = args.Contains("--json");
            var yes = args.Contains("--yes");

            // Validate the command before connecting.
            Func<RedisInspector, IConnectionMultiplexer, Task<int>> command = words switch
            {
                ["status"] => (r, _) => StatusAsync(r, json),
                ["inspect", var id] => (r, _) => InspectAsync(r, id, json),
                ["dead", "list", var queue] => (r, _) => DeadListAsync(r, Queue(queue), json),
                ["dead", "retry", var queue] => (r, _) => DeadRetryAsync(r, Queue(queue), yes),
                ["dead", "purge", var queue] => (r, _) => DeadPurgeAsync(r, Queue(queue), yes),
                ["purge", var queue] => (r, _) => PurgeAsync(r, Queue(queue), yes),
                ["cancel", var id] => (r, c) => CancelAsync(r, c, id),
                _ => throw new UsageException($"unknown command '{string.Join(' ', words)}'"),
            };

            var options = ConfigurationOptions.Parse(redis);
            options.AbortOnConnectFail = true;
            options.ConnectTimeout = Math.Min(options.ConnectTimeout, 3000);
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
            return await command(new RedisInspector(connection, prefix), connection);
        }

        private static async Task<int> StatusAsync(RedisInspector redis, bool json)
        {
            var queues = await redis.QueuesAsync();
            var workers = await redis.WorkersAsync(DateTimeOffset.UtcNow);
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    queues = queues.Select(q => new { name = q.Name, pending = q.Pending, scheduled = q.Scheduled, inflight = q.InFlight, dead = q.Dead }),
                    workers = workers.Select(w => new { id = w.Id, host = w.Host, pid = w.Pid, queues = w.Queues, concurrency = w.Concurrency, heartbeat_age_s = w.HeartbeatAgeSeconds, done = w.Done }),
                }, Json));
                return 0;
            }

            Console.WriteLine(Table(["QUEUE", "PENDING", "SCHEDULED", "IN FLIGHT", "DEAD"], queues.Select(q => new[] { q.Name, $"{q.Pending}", $"{q.Scheduled}", $"{q.InFlight}", $"{q.Dead}" })));
            Console.WriteLine();
            Console.WriteLine(workers.Count == 0
                ? "No live workers."
                : Table(["WORKER", "HOST", "PID", "QUEUES", "CONCURRENCY", "HEARTBEAT", "DONE"], workers.Select(w => new[] { w.Id, w.Host, $"{w.Pid}", string.Join(",", w.Queues), $"{w.Concurrency}", $"{w.HeartbeatAgeSeconds:0.0} s ago", $"{w.Done}" })));
            return 0;
        }

        private static async Task<int> InspectAsync(RedisInspector redis, string id, bool json)
        {
            var stored = await redis.Db.StringGetAsync(redis.Keys.Result(id));
            var info = stored.IsNull ? null : TaskInfoCodec.Read(id, (byte[])stored!);
            var message = await redis.FindMessageAsync(id);
            if (info is null && message is null)
            {
                Console.Error.WriteLine($"typedtasks: no task with id '{id}' (never enqueued, or its result has expired)");
                return 1;
            }

            var report = new Dictionary<string, object?>
            {
                ["id"] = id,
                ["task"] = info?.TaskName ?? message?.Envelope.TaskName,
                ["state"] = (info?.State ?? TaskState.Pending).ToString(),
                ["runs"] = (info?.Attempt ?? message?.Envelope.Attempt ?? 0) + 1,
                ["updated_at"] = info?.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
                ["queue"] = message?.Queue,
                ["message"] = message?.Where,
                ["arguments"] = message is { } m ? JsonDocument.Parse(MessagePackSerializer.ConvertToJson(m.Envelope.Arguments)).RootElement : null,
                ["result"] = info is { State: TaskState.Succeeded, Result.IsEmpty: false } ? JsonDocument.Parse(MessagePackSerializer.ConvertToJson(info.Result)).RootElement : null,
                ["error"] = info?.Error is { } e ? new { type = e.Type, message = e.Message, details = e.StackTrace } : null,
            };
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Json));
                return 0;
            }

            foreach (var (key, value) in report.Where(p => p.Value is not null && p.Key != "error"))
            {
                Console.WriteLine($"{key,-11} {(value is JsonElement element ? element.GetRawText() : value)}");
            }

            if (info?.Error is { } error)
            {
                Console.WriteLine($"{"error",-11} {error.Type}: {error.Message}");
                Console.WriteLine(error.StackTrace);
            }

            return 0;
        }

        private static async Task<int> DeadListAsync(RedisInspector redis, string queue, bool json)
        {
            var letters = (await redis.Db.ListRangeAsync(redis.Keys.Dead(queue))).Select(r => DeadLetterRecord.Read((byte[])r!)).ToList();
            var rows = letters.Select(l =>
            {
                TaskEnvelope? envelope = null;
                try
                {
                    envelope = TaskEnvelope.Read(l.Body);
                }
                catch (InvalidEnvelopeException)
                {
                }

                return new
                {
                    at = l.At.ToString("O", CultureInfo.InvariantCulture),
                    id = envelope?.Id,
                    task = envelope?.TaskName,
                    reason = l.Reason,
                    arguments = envelope is null ? null : MessagePackSerializer.ConvertToJson(envelope.Arguments),
                    bytes = l.Body.Length,
                };
            }).ToList();
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(rows, Json));
                return 0;
            }

            Console.WriteLine(rows.Count == 0
                ? $"No dead letters in '{queue}'."
                : Table(["AT", "ID", "TASK", "REASON"], rows.Select(r => new[] { r.at, r.id ?? $"({r.bytes} bytes, not an envelope)", r.task ?? "", r.reason })));
            return 0;
        }

        private static async Task<int> DeadRetryAsync(RedisInspector redis, string queue, bool yes)
        {
            var records = await redis.Db.ListRangeAsync(redis.Keys.Dead(queue));
            if (records.Length == 0)
            {
                Console.WriteLine($"No dead letters in '{queue}'.");
                return 0;
            }

            if (!Confirm($"Put the {records.Length} dead letter(s) of '{queue}' back into the queue?", yes))
            {
                return 1;
            }

            int retried = 0, skipped = 0;
            foreach (var record in records)
            {
                var letter = DeadLetterRecord.Read((byte[])record!);
                TaskEnvelope envelope;
                try
                {
                    envelope = TaskEnvelope.Read(letter.Body);
                }
                catch (InvalidEnvelopeException)
                {
                    skipped++; // bytes that are not a task stay where they are, for a person to look at
                    continue;
                }

                // A replay is a new life: a fresh retry budget, and the final state is replaced.
                var pending = new TaskInfo(envelope.Id, envelope.TaskName, TaskState.Pending, 0, DateTimeOffset.UtcNow, null, default);
                await redis.Db.StringSetAsync(redis.Keys.Result(envelope.Id), TaskInfoCodec.Write(pending), TaskDefaults.ResultTtl);
                var moved = (long)await RedisScript.DeadRetry.RunAsync(
                    redis.Db,
                    [redis.Keys.Dead(queue), redis.Keys.Ready(queue, envelope.Priority)],
                    [record, envelope.WithAttempt(0), redis.Keys.Wake.ToString(), queue]);
                retried += (int)moved;
            }

            Console.WriteLine($"Retried {retried} task(s) from the dead letters of '{queue}'" + (skipped > 0 ? $"; left {skipped} that are not task messages." : "."));
            return 0;
        }

        private static async Task<int> DeadPurgeAsync(RedisInspector redis, string queue, bool yes)
        {
            var count = await redis.Db.ListLengthAsync(redis.Keys.Dead(queue));
            if (count == 0 || !Confirm($"Delete the {count} dead letter(s) of '{queue}'?", yes))
            {
                Console.WriteLine(count == 0 ? $"No dead letters in '{queue}'." : "Nothing deleted.");
                return count == 0 ? 0 : 1;
            }

            await redis.Db.KeyDeleteAsync(redis.Keys.Dead(queue));
            Console.WriteLine($"Deleted {count} dead letter(s) of '{queue}'.");
            return 0;
        }

        private static async Task<int> PurgeAsync(RedisInspector redis, string queue, bool yes)
        {
            var lists = redis.Keys.ReadyLists(queue);
            var pending = (await Task.WhenAll(lists.Select(k => redis.Db.ListLengthAsync(k)))).Sum();
            var scheduled = await redis.Db.SortedSetLengthAsync(redis.Keys.Scheduled(queue));
            if (pending + scheduled == 0 || !Confirm($"Delete {pending} waiting and {scheduled} scheduled message(s) of '{queue}'? They will never run.", yes))
            {
                Console.WriteLine(pending + scheduled == 0 ? $"Queue '{queue}' is empty." : "Nothing deleted.");
                return pending + scheduled == 0 ? 0 : 1;
            }

            await redis.Db.KeyDeleteAsync([.. lists, redis.Keys.Scheduled(queue)]);
            Console.WriteLine($"Deleted {pending} waiting and {scheduled} scheduled message(s) of '{queue}'.");
            return 0;
        }

        private static async Task<int> CancelAsync(RedisInspector redis, IConnectionMultiplexer connection, string id)
        {
            var current = await redis.Db.StringGetAsync(redis.Keys.Result(id));
            if (current.IsNull)
            {
                Console.Error.WriteLine($"typedtasks: no task with id '{id}' (never enqueued, or its result has expired)");
                return 1;
            }

            var backend = new RedisResultBackend(connection, redis.Keys, new RedisTransportOptions(), TaskDefaults.ResultTtl, TimeProvider.System);
            if (await backend.CancelAsync(id))
            {
                Console.WriteLine($"Canceled {id}.");
                return 0;
            }

            Console.WriteLine($"Task {id} had already ended: {TaskInfoCodec.Read(id, (byte[])current!).State}.");
            return 1;
        }

        private static bool Confirm(string question, bool yes)
        {
            if (yes)
            {
                return true;
            }

            Console.Write($"{question} Type 'yes' to go on: ");
            var answer = Console.IsInputRedirected && Console.In.Peek() < 0 ? null : Console.ReadLine();
            if (answer?.Trim() == "yes")
            {
                return true;
            }

            Console.WriteLine();
            Console.Error.WriteLine("typedtasks: nothing done (answer 'yes', or pass --yes)");
            return false;
        }

        private static string Queue(string queue)
        {
            try
            {
                RedisKeys.CheckQueue(queue);
                return queue;
            }
            catch (ArgumentException ex)
            {
                throw new UsageException(ex.Message.Split(" (Parameter")[0]);
            }
        }

        private static string? Option(string[] args, string name)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }

        private static List<string> Positional(string[] args)
        {
            var words = new List<string>();
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i] is "--redis" or "--prefix")
                {
                    i++;
                }
                else if (!args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    words.Add(args[i]);
                }
                else if (args[i] is not ("--json" or "--yes"))
                {
                    throw new UsageException($"unknown option '{args[i]}'");
                }
            }

            return words;
        }

        private static string Table(string[] header, IEnumerable<string[]> rows)
        {
            var all = new List<string[]> { header };
            all.AddRange(rows);
            var widths = header.Select((_, c) => all.Max(r => r[c].Length)).ToArray();
            return string.Join(Environment.NewLine, all.Select(r => string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()));
        }
    }
}

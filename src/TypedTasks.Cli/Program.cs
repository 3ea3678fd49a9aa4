using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks;
using TypedTasks.Cli;
using TypedTasks.Redis;
using TypedTasks.Serialization;
using TypedTasks.Transport;

// typedtasks: look at and act on TypedTasks in Redis. Exit codes: 0 done, 1 refused, not found
// or an unexpected error, 2 bad arguments, 3 Redis unreachable or refusing. Errors are short
// lines on stderr, never a stack trace, never a password.
return await Cli.RunAsync(args);

namespace TypedTasks.Cli
{
    internal static partial class Cli
    {
        private const string RedisVariable = "TYPEDTASKS_REDIS";
        private const string RedisAdvice = "pass --redis HOST:PORT or set " + RedisVariable;

        // Deep enough for arguments shown to their bound (MessagePackJson.MaxDepth) inside a report.
        private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, MaxDepth = MessagePackJson.MaxDepth + 8 };

        private static readonly Option<string?> RedisOption = new("--redis")
        {
            Description = $"Redis: HOST:PORT or a StackExchange.Redis connection string (password=, user=, ssl=true...). Default: ${RedisVariable}",
            HelpName = "HOST:PORT",
            Recursive = true,
        };

        private static readonly Option<string> PrefixOption = new("--prefix")
        {
            Description = "The key prefix of the application (TypedTasks:RedisTransport:KeyPrefix)",
            HelpName = "PREFIX",
            DefaultValueFactory = _ => "tt",
            Recursive = true,
            Validators = { ValidPrefix },
        };

        public static async Task<int> RunAsync(string[] args)
        {
            var secrets = Secrets(args);
            try
            {
                return await ParseAndRunAsync(args, secrets);
            }
            catch (Exception ex)
            {
                // The last resort: one line, the message's first line only, passwords removed; never a stack trace.
                return Fail(1, $"unexpected error ({ex.GetType().Name}: {Redact(ex.Message.Split('\n')[0].Trim(), secrets)}). Run the command again; if it fails the same way, report this line.");
            }
        }

        private static async Task<int> ParseAndRunAsync(string[] args, string[] secrets)
        {
            var root = Build(secrets);
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0 && parsed.Action is ParseErrorAction)
            {
                // What the user typed wrong comes before what is missing ("Required command...").
                foreach (var error in parsed.Errors.OrderBy(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains(t, StringComparison.Ordinal)) ? 0 : 1))
                {
                    Console.Error.WriteLine($"typedtasks: {Redact(error.Message, secrets)}");
                }

                Console.Error.WriteLine();
                await HelpFor(root, parsed.CommandResult).InvokeAsync(new InvocationConfiguration { Output = Console.Error });
                return 2;
            }

            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }

        private static RootCommand Build(string[] secrets)
        {
            var json = new Option<bool>("--json") { Description = "Print one JSON document instead of a table" };
            var yes = new Option<bool>("--yes") { Description = "Do it without asking for confirmation" };
            var id = new Argument<string>("ID") { Description = "The task id (AsyncResult.Id)" };
            Argument<string> Queue(string what)
            {
                var queue = new Argument<string>("QUEUE") { Description = what };
                queue.Validators.Add(ValidQueue);
                return queue;
            }

            var someQueue = new Argument<string?>("QUEUE") { Description = "The queue; without it, the dead letters of every queue", Arity = ArgumentArity.ZeroOrOne };
            someQueue.Validators.Add(ValidQueue);

            var status = new Command("status", "Queues (pending, scheduled, in flight, dead, live workers) and live workers; queues with tasks and no live worker are marked") { json };
            status.SetAction((p, _) => WithRedisAsync(p, secrets, r => StatusAsync(r, p.GetValue(json))));

            var inspect = new Command("inspect", "A task's state, attempt, arguments, result or error, and where its message is") { id, json };
            inspect.SetAction((p, _) => WithRedisAsync(p, secrets, r => InspectAsync(r, p.GetValue(id)!, p.GetValue(json))));

            var deadList = new Command("list", "The dead letters of a queue, or of every queue, newest first") { someQueue, json };
            deadList.SetAction((p, _) => WithRedisAsync(p, secrets, r => DeadListAsync(r, p.GetValue(someQueue), p.GetValue(json))));

            var retryQueue = Queue("The queue whose dead letters go back into it");
            var deadRetry = new Command("retry", "Put every dead letter of a queue back into it, with a fresh retry budget") { retryQueue, yes };
            deadRetry.SetAction((p, _) => WithRedisAsync(p, secrets, r => DeadRetryAsync(r, p.GetValue(retryQueue)!, p.GetValue(yes))));

            var purgeDeadQueue = Queue("The queue whose dead letters are deleted");
            var deadPurge = new Command("purge", "Delete the dead letters of a queue") { purgeDeadQueue, yes };
            deadPurge.SetAction((p, _) => WithRedisAsync(p, secrets, r => DeadPurgeAsync(r, p.GetValue(purgeDeadQueue)!, p.GetValue(yes))));

            var dead = new Command("dead", "Dead letters: messages that failed for good or could not be run") { deadList, deadRetry, deadPurge };

            var purgeQueue = Queue("The queue whose waiting and scheduled messages are deleted");
            var purge = new Command("purge", "Delete the waiting and scheduled messages of a queue; they never run") { purgeQueue, yes };
            purge.SetAction((p, _) => WithRedisAsync(p, secrets, r => PurgeAsync(r, p.GetValue(purgeQueue)!, p.GetValue(yes))));

            var cancel = new Command("cancel", "Cancel a task: a pending one never runs, a running one has its token signalled") { id };
            cancel.SetAction((p, _) => WithRedisAsync(p, secrets, r => CancelAsync(r, p.GetValue(id)!)));

            return new RootCommand("typedtasks: look at and act on TypedTasks queues, tasks and dead letters in Redis.")
            {
                RedisOption, PrefixOption, status, inspect, dead, purge, cancel,
            };
        }

        /// <summary>The help of the command the user was typing, for the lines after a usage error.</summary>
        private static ParseResult HelpFor(RootCommand root, CommandResult command)
        {
            var path = new List<string>();
            for (SymbolResult? result = command; result is CommandResult { Command: not RootCommand } named; result = named.Parent)
            {
                path.Insert(0, named.Command.Name);
            }

            return root.Parse([.. path, "--help"]);
        }

        /// <summary>
        /// Connects, runs the command and turns Redis errors into one line that names host and
        /// port only: the connection string, which may hold a password, is never printed.
        /// </summary>
        private static async Task<int> WithRedisAsync(ParseResult parsed, string[] secrets, Func<RedisInspector, Task<int>> command)
        {
            var (text, source) = parsed.GetValue(RedisOption) is { } given ? (given, "--redis") : (Environment.GetEnvironmentVariable(RedisVariable), RedisVariable);
            if (string.IsNullOrWhiteSpace(text))
            {
                return Fail(2, $"no Redis given: {RedisAdvice}");
            }

            ConfigurationOptions options;
            try
            {
                options = ConfigurationOptions.Parse(text);
            }
            catch (ArgumentException ex)
            {
                return Fail(2, $"the Redis connection string of {source} is not valid ({Redact(ex.Message.Split('\n')[0], secrets)}): {RedisAdvice}");
            }

            if (options.EndPoints.Count == 0)
            {
                return Fail(2, $"the Redis connection string of {source} names no HOST:PORT: {RedisAdvice}");
            }

            var target = Transient.Describe(options.EndPoints);
            options.AbortOnConnectFail = true;
            options.ConnectTimeout = Math.Min(options.ConnectTimeout, 3000);
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                return await command(new RedisInspector(connection, parsed.GetValue(PrefixOption)!));
            }
            catch (Exception ex) when (Transient.IsOutOfMemory(ex) || ex.InnerException is { } inner && Transient.IsOutOfMemory(inner))
            {
                return Fail(3, $"Redis at {target} is out of memory and refused a write (OOM): {Transient.MemoryAdvice}");
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or TransportException)
            {
                var reason = Transient.Reason(ex);
                var check = reason == nameof(ConnectionFailureType.AuthenticationFailure)
                    ? "check the password= and user= of the connection string"
                    : "check that redis-server is running there";
                return Fail(3, $"cannot reach Redis at {target} ({reason}; from {source}): {check}, and {RedisAdvice}");
            }
            catch (RedisServerException ex)
            {
                return Fail(3, $"Redis at {target} refused: {Redact(ex.Message.Split('\n')[0], secrets)}");
            }
        }

        private static int Fail(int exit, string message)
        {
            Console.Error.WriteLine($"typedtasks: {message}");
            return exit;
        }

        /// <summary>The passwords the command line or the environment carries, longest first, to keep out of any message.</summary>
        private static string[] Secrets(string[] args)
            => [.. args.Append(Environment.GetEnvironmentVariable(RedisVariable) ?? "")
                .SelectMany(a => Password().Matches(a).Select(m => m.Groups[1].Value.Trim()))
                .Where(s => s.Length > 0)
                .Distinct(StringComparer.Ordinal)
                .OrderByDescending(s => s.Length)];

        private static string Redact(string text, string[] secrets)
            => secrets.Aggregate(text, (t, secret) => t.Replace(secret, "***", StringComparison.Ordinal));

        [GeneratedRegex(@"(?:^|,)\s*password\s*=([^,]*)", RegexOptions.IgnoreCase)]
        private static partial Regex Password();

        private static async Task<int> StatusAsync(RedisInspector redis, bool json)
        {
            var queues = await redis.QueuesAsync();
            var workers = await redis.WorkersAsync(DateTimeOffset.UtcNow);
            int Serving(string queue) => workers.Count(w => w.Queues.Contains(queue, StringComparer.Ordinal));
            bool Unserved(RedisInspector.QueueCounts q) => q.Pending + q.Scheduled + q.InFlight > 0 && Serving(q.Name) == 0;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    queues = queues.Select(q => new { name = q.Name, pending = q.Pending, scheduled = q.Scheduled, inflight = q.InFlight, dead = q.Dead, workers = Serving(q.Name), unserved = Unserved(q) }),
                    workers = workers.Select(w => new { id = w.Id, host = w.Host, pid = w.Pid, queues = w.Queues, concurrency = w.Concurrency, heartbeat_age_s = w.HeartbeatAgeSeconds, done = w.Done }),
                }, Json));
                return 0;
            }

            Console.WriteLine(queues.Count == 0
                ? "No queues."
                : Table(["QUEUE", "PENDING", "SCHEDULED", "IN FLIGHT", "DEAD", "WORKERS"], queues.Select(q => new[] { q.Name, $"{q.Pending}", $"{q.Scheduled}", $"{q.InFlight}", $"{q.Dead}", Unserved(q) ? "NONE (!)" : $"{Serving(q.Name)}" })));
            var unserved = queues.Where(Unserved).Select(q => q.Name).ToList();
            if (unserved.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine($"(!) No live worker serves {string.Join(", ", unserved)}: their tasks wait until a worker with the same key prefix lists the queue in WorkerOptions.Queues (TypedTasks:Worker:Queues).");
            }

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
                ["attempt"] = info?.Attempt ?? 0,
                ["updated_at"] = info?.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
                ["queue"] = message?.Queue,
                ["message"] = message?.Where,
                ["arguments"] = message is { } m ? MessagePackJson.ToElement(m.Envelope.Arguments) : null,
                ["result"] = info is { State: TaskState.Succeeded, Result.IsEmpty: false } ? MessagePackJson.ToElement(info.Result) : null,
                ["error"] = info?.Error is { } e ? new { type = e.Type, message = e.Message, details = e.StackTrace } : null,
            };
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Json));
                return 0;
            }

            foreach (var (key, value) in report.Where(p => p.Value is not null && p.Key != "error"))
            {
                var shown = (key, value) switch
                {
                    ("attempt", 0) => "not started",
                    (_, JsonElement element) => element.GetRawText(),
                    _ => value,
                };
                Console.WriteLine($"{key,-11} {shown}");
            }

            if (info?.Error is { } error)
            {
                Console.WriteLine($"{"error",-11} {error.Type}: {error.Message}");
                Console.WriteLine(error.StackTrace);
            }

            return 0;
        }

        /// <summary>The dead letters of one queue, or, with no queue named, of every queue that has a key.</summary>
        private static async Task<int> DeadListAsync(RedisInspector redis, string? queue, bool json)
        {
            var queues = queue is null ? [.. (await redis.DiscoverAsync()).Queues] : new List<string> { queue };
            var rows = new List<DeadRow>();
            foreach (var name in queues)
            {
                var letters = (await redis.Db.ListRangeAsync(redis.Keys.Dead(name))).Select(r => DeadLetterRecord.Read((byte[])r!));
                rows.AddRange(letters.Select(l => DeadRow.From(name, l)));
            }

            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(rows.Select(r => new { queue = r.Queue, at = r.At, id = r.Id, task = r.Task, reason = r.Reason, arguments = r.Arguments, bytes = r.Bytes }), Json));
                return 0;
            }

            if (rows.Count == 0)
            {
                Console.WriteLine(queue is not null ? $"No dead letters in '{queue}'."
                    : queues.Count == 0 ? "No dead letters: no queue has any key under this prefix."
                    : $"No dead letters in any queue ({string.Join(", ", queues)}).");
                return 0;
            }

            Console.WriteLine(Table(["QUEUE", "AT", "ID", "TASK", "REASON"], rows.Select(r => new[] { r.Queue, r.At, r.Id ?? $"({r.Bytes} bytes, not an envelope)", r.Task ?? "", r.Reason })));
            return 0;
        }

        private sealed record DeadRow(string Queue, string At, string? Id, string? Task, string Reason, string? Arguments, int Bytes)
        {
            public static DeadRow From(string queue, DeadLetter letter)
            {
                TaskEnvelope? envelope = null;
                try
                {
                    envelope = TaskEnvelope.Read(letter.Body);
                }
                catch (InvalidEnvelopeException)
                {
                    // Shown as bytes: a dead letter may be anything a producer sent.
                }

                return new DeadRow(
                    queue,
                    letter.At.ToString("O", CultureInfo.InvariantCulture),
                    envelope?.Id,
                    envelope?.TaskName,
                    letter.Reason,
                    envelope is null ? null : MessagePackJson.ToJson(envelope.Arguments),
                    letter.Body.Length);
            }
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

        private static async Task<int> CancelAsync(RedisInspector redis, string id)
        {
            var current = await redis.Db.StringGetAsync(redis.Keys.Result(id));
            if (current.IsNull)
            {
                Console.Error.WriteLine($"typedtasks: no task with id '{id}' (never enqueued, or its result has expired)");
                return 1;
            }

            var backend = new RedisResultBackend(redis.Connection, redis.Keys, new RedisTransportOptions(), TaskDefaults.ResultTtl, TimeProvider.System);
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

        /// <summary>A queue name is checked while parsing, so a bad one is a usage error with the command's help.</summary>
        private static void ValidPrefix(OptionResult result)
        {
            if (RedisKeys.PrefixProblem(result.GetValueOrDefault<string?>()) is { } problem)
            {
                result.AddError($"--prefix: {problem}");
            }
        }

        private static void ValidQueue(ArgumentResult result)
        {
            if (result.GetValueOrDefault<string?>() is not { } queue)
            {
                return;
            }

            if (QueueName.Problem(queue) is { } problem)
            {
                result.AddError(problem);
            }
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

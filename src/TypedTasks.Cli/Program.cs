using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks;
using TypedTasks.Cli;
using TypedTasks.Inspection;
using TypedTasks.Transport;

// typedtasks: look at and act on TypedTasks in Redis, through the inspector every tool shares.
// Exit codes: 0 done, 1 refused, not found or an unexpected error, 2 bad arguments, 3 Redis
// unreachable or refusing. Errors are short lines on stderr, never a stack trace, never a password.
return await Cli.RunAsync(args);

namespace TypedTasks.Cli
{
    internal static partial class Cli
    {
        private const string RedisVariable = "TYPEDTASKS_REDIS";
        private const string RedisAdvice = "pass --redis HOST:PORT or set " + RedisVariable;
        private const string MemoryAdvice = "check the server's maxmemory and maxmemory-policy (with noeviction, writes fail once maxmemory is reached; raise maxmemory rather than pick a policy that evicts TypedTasks keys)";
        private const string KeyPrefixRule = "a key prefix is not empty or blank and holds no braces";

        // Arguments and results arrive as JSON text from the inspector, already bounded in depth;
        // a report embeds them, so it may nest a few levels deeper.
        // For a terminal and jq, not a web page: '+' of an offset and quotes in arguments are
        // written as they are, control characters still escaped.
        private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, MaxDepth = 128, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        private static readonly Option<string?> RedisOption = new("--redis")
        {
            Description = $"Redis: HOST:PORT or a StackExchange.Redis connection string (password=, user=, ssl=true...). Default: ${RedisVariable}",
            HelpName = "HOST:PORT",
            Recursive = true,
        };

        private static readonly Option<string> PrefixOption = new("--prefix")
        {
            Description = "The key prefix of the application (RedisTransportOptions.KeyPrefix, TypedTasks:RedisTransport:KeyPrefix)",
            HelpName = "PREFIX",
            DefaultValueFactory = _ => "tt",
            Recursive = true,
            Validators = { ValidPrefix },
        };

        private static readonly Option<string[]> AssemblyOption = new("--tasks-from")
        {
            Description = "An assembly that declares tasks (a .dll built with TypedTasks): inspect then shows their arguments by parameter name",
            HelpName = "DLL",
            Recursive = true,
            AllowMultipleArgumentsPerToken = false,
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
            var json = new Option<bool>("--json") { Description = "Print one JSON document instead of text" };
            var yes = new Option<bool>("--yes") { Description = "Do it without asking for confirmation" };
            var id = new Argument<string>("ID") { Description = "The task id (AsyncResult.Id)" };
            Argument<string> Queue(string what)
            {
                var queue = new Argument<string>("QUEUE") { Description = what };
                queue.Validators.Add(ValidQueue);
                return queue;
            }

            var count = new Option<int>("--count") { Description = $"How many tasks to show, 1 to {InspectorModel.MaxPageSize}", DefaultValueFactory = _ => 50, HelpName = "N" };
            count.Validators.Add(r =>
            {
                if (Parsed(r, out int n) && n is < 1 or > InspectorModel.MaxPageSize)
                {
                    r.AddError($"--count: {n} is not between 1 and {InspectorModel.MaxPageSize}");
                }
            });

            var status = new Command("status", "Queues (tasks in each state, live workers) and live workers; queues with waiting tasks and no live worker are marked") { json };
            status.SetAction((p, _) => WithInspectorAsync(p, secrets, i => StatusAsync(i, p.GetValue(PrefixOption)!, p.GetValue(json))));

            var workers = new Command("workers", "The live workers: queues, concurrency, the tasks they hold, heartbeat age") { json };
            workers.SetAction((p, _) => WithInspectorAsync(p, secrets, i => WorkersAsync(i, p.GetValue(json))));

            var inspect = new Command("inspect", "A task's state, attempt, arguments (by name when known), result or error") { id, json };
            inspect.SetAction((p, _) => WithInspectorAsync(p, secrets, i => InspectAsync(i, p.GetValue(id)!, p.GetValue(json))));

            var workflow = new Command("workflow", "A whole workflow from the id of any of its tasks (the handle EnqueueAsync gave, a step, a member) or its workflow id: its stages, their members, and where it stopped") { id, json };
            workflow.SetAction((p, _) => WithInspectorAsync(p, secrets, i => WorkflowAsync(i, p.GetValue(id)!, p.GetValue(json))));

            var tasksQueue = Queue("The queue whose tasks are listed");
            var state = new Option<TaskState>("--state") { Description = "The state: Pending, Scheduled, Started, Retrying, Succeeded, Failed, Canceled or Expired", DefaultValueFactory = _ => TaskState.Pending, HelpName = "STATE" };
            var offset = new Option<long>("--offset") { Description = "How many tasks to skip (in the order the store keeps them)", DefaultValueFactory = _ => 0, HelpName = "N" };
            offset.Validators.Add(r =>
            {
                if (Parsed(r, out long n) && n < 0)
                {
                    r.AddError($"--offset: {n} is negative");
                }
            });
            var tasks = new Command("tasks", "A page of the tasks of a queue in one state, in the order the store keeps them") { tasksQueue, state, offset, count, json };
            tasks.SetAction((p, _) => WithInspectorAsync(p, secrets, i => TasksAsync(i, p.GetValue(tasksQueue)!, p.GetValue(state), p.GetValue(offset), p.GetValue(count), p.GetValue(json))));

            var someQueue = new Argument<string?>("QUEUE") { Description = "The queue; without it, the failed tasks of every queue", Arity = ArgumentArity.ZeroOrOne };
            someQueue.Validators.Add(ValidQueue);
            var deadList = new Command("list", "The failed tasks of a queue, or of every queue, newest first") { someQueue, count, json };
            deadList.SetAction((p, _) => WithInspectorAsync(p, secrets, i => DeadListAsync(i, p.GetValue(someQueue), p.GetValue(count), p.GetValue(json))));

            var retryQueue = Queue("The queue whose failed tasks run again");
            var deadRetry = new Command("retry", "Run every failed task of a queue again, each with a fresh retry budget") { retryQueue, yes, json };
            deadRetry.SetAction((p, _) => WithInspectorAsync(p, secrets, i => DeadRetryAsync(i, p.GetValue(retryQueue)!, p.GetValue(yes), p.GetValue(json))));

            var purgeDeadQueue = Queue("The queue whose failed tasks are deleted");
            var deadPurge = new Command("purge", "Delete the failed tasks of a queue") { purgeDeadQueue, yes, json };
            deadPurge.SetAction((p, _) => WithInspectorAsync(p, secrets, i => DeadPurgeAsync(i, p.GetValue(purgeDeadQueue)!, p.GetValue(yes), p.GetValue(json))));

            var dead = new Command("dead", "Failed tasks: those that failed for good or could not be run") { deadList, deadRetry, deadPurge };

            var purgeQueue = Queue("The queue whose waiting tasks (pending, scheduled, retrying) are deleted");
            var purge = new Command("purge", "Delete the waiting tasks of a queue (pending, scheduled and retrying); they never run") { purgeQueue, yes, json };
            purge.SetAction((p, _) => WithInspectorAsync(p, secrets, i => PurgeAsync(i, p.GetValue(purgeQueue)!, p.GetValue(yes), p.GetValue(json))));

            var cancel = new Command("cancel", "Cancel a task: a waiting one never runs, a running one has its token signalled") { id, json };
            cancel.SetAction((p, _) => WithInspectorAsync(p, secrets, i => CancelAsync(i, p.GetValue(id)!, p.GetValue(json))));

            return new RootCommand("typedtasks: look at and act on TypedTasks queues, tasks, failed tasks, schedules, limits and locks in Redis.")
            {
                RedisOption, PrefixOption, AssemblyOption, status, workers, inspect, workflow, tasks, dead, purge, cancel, SchedulesCommand(secrets, json),
                LimitsCommand(secrets, json, Queue, offset, count), LocksCommand(secrets, json, Queue),
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
        /// Opens the store, runs the command on its inspector and turns Redis errors into one line
        /// that names host and port only: the connection string, which may hold a password, is never printed.
        /// </summary>
        private static async Task<int> WithInspectorAsync(ParseResult parsed, string[] secrets, Func<ITaskInspector, Task<int>> command)
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

            var target = Describe(options);
            foreach (var path in parsed.GetValue(AssemblyOption) ?? [])
            {
                if (LoadTasks(path) is { } problem)
                {
                    return Fail(2, $"--tasks-from: {problem}");
                }
            }

            // A tool fails fast: one short try to connect, not the minutes a service waits.
            options.AbortOnConnectFail = true;
            options.ConnectTimeout = Math.Min(options.ConnectTimeout, 3000);
            try
            {
                await using var store = await StoreConnection.OpenAsync(options, parsed.GetValue(PrefixOption)!);
                return await command(TaskInspectorFactory.Create(store));
            }
            catch (TaskNotFoundException ex)
            {
                return Fail(1, Redact(ex.Message, secrets));
            }
            catch (Exception ex) when (Chain(ex).Any(IsOutOfMemory))
            {
                return Fail(3, $"Redis at {target} is out of memory and refused a write (OOM): {MemoryAdvice}");
            }
            catch (Exception ex) when (ex is TransportException || Chain(ex).Any(e => e is RedisConnectionException or RedisTimeoutException))
            {
                var reason = Reason(ex);
                var check = reason == nameof(ConnectionFailureType.AuthenticationFailure)
                    ? "check the password= and user= of the connection string"
                    : "check that redis-server is running there";
                return Fail(3, $"cannot reach Redis at {target} ({reason}; from {source}): {check}, and {RedisAdvice}");
            }
            catch (Exception ex) when (Chain(ex).OfType<RedisServerException>().FirstOrDefault() is { } refused)
            {
                return Fail(3, $"Redis at {target} refused: {Redact(refused.Message.Split('\n')[0], secrets)}");
            }
        }

        /// <summary>Makes the tasks of an assembly known to this process, so that their arguments are shown by name; why not, if it cannot.</summary>
        private static string? LoadTasks(string path)
        {
            try
            {
                TaskCatalog.RegisterAssembly(System.Reflection.Assembly.LoadFrom(System.IO.Path.GetFullPath(path)));
                return null;
            }
            catch (Exception ex) when (ex is System.IO.IOException or BadImageFormatException or ArgumentException or System.Security.SecurityException or UnauthorizedAccessException)
            {
                return $"cannot load tasks from '{path}': {ex.Message.Split('\n')[0].Trim()}";
            }
        }

        private static IEnumerable<Exception> Chain(Exception ex)
        {
            for (Exception? e = ex; e is not null; e = e.InnerException)
            {
                yield return e;
            }
        }

        private static bool IsOutOfMemory(Exception ex)
            => ex is RedisServerException && (ex.Message.StartsWith("OOM", StringComparison.Ordinal) || ex.Message.Contains("OOM command not allowed", StringComparison.Ordinal));

        /// <summary>Why, in a word or two: the client's failure type or a timeout.</summary>
        private static string Reason(Exception ex)
        {
            var connection = Chain(ex).OfType<RedisConnectionException>().LastOrDefault(e => e.FailureType != ConnectionFailureType.UnableToResolvePhysicalConnection)
                ?? Chain(ex).OfType<RedisConnectionException>().FirstOrDefault();
            return connection is not null ? connection.FailureType.ToString()
                : Chain(ex).Any(e => e is RedisTimeoutException or TimeoutException) ? "timeout"
                : "unreachable";
        }

        /// <summary>Host:port of each endpoint, never the rest of the connection string.</summary>
        private static string Describe(ConfigurationOptions options)
            => string.Join(", ", options.EndPoints.Select(e => e switch
            {
                System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
                System.Net.IPEndPoint ip => ip.ToString(),
                _ => e.ToString() ?? "?",
            }));

        /// <summary>
        /// Exit 1 with why when the store knows no queue of that name, so that a mistyped queue or
        /// prefix is told apart from a known queue with nothing to show; null when it knows it.
        /// </summary>
        private static async Task<int?> UnknownQueueAsync(ITaskInspector inspector, string queue)
            => await inspector.GetQueueAsync(queue) is null ? Fail(1, UnknownQueue(queue)) : null;

        /// <summary>Why no task has the id; an id without its queue is not one a store made.</summary>
        private static string NoTask(string id) => id.Contains('@', StringComparison.Ordinal)
            ? $"no task with id '{id}' (never enqueued here, or it ended longer ago than the result TTL and its record expired)"
            : $"no task with id '{id}': a task id ends with @ and its queue, as 5f1c2a9e-17@default (typedtasks tasks QUEUE lists the ids of a queue)";

        private static string UnknownQueue(string queue)
            => $"no queue '{queue}' is known here (no task was sent to it and no live worker serves it): typedtasks status lists the queues; check --prefix and --redis";

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

        private static async Task<int> StatusAsync(ITaskInspector inspector, string prefix, bool json)
        {
            var queues = await inspector.GetQueuesAsync();
            var workers = await inspector.GetWorkersAsync();
            if (json)
            {
                Print(new
                {
                    model = InspectorModel.Version,
                    queues = queues.Select(q => new
                    {
                        name = q.Name,
                        pending = q.Counts.Pending,
                        held = q.Counts.Held,
                        scheduled = q.Counts.Scheduled,
                        started = q.Counts.Started,
                        retrying = q.Counts.Retrying,
                        succeeded = q.Counts.Succeeded,
                        failed = q.Counts.Failed,
                        canceled = q.Counts.Canceled,
                        expired = q.Counts.Expired,
                        workers = q.Workers.Count,
                        unserved = q.Unserved,
                    }),
                    workers = workers.Select(WorkerJson),
                });
                return 0;
            }

            Console.WriteLine(queues.Count == 0
                // Most often a prefix other than the application's: say which one was looked under.
                ? $"No queues under the key prefix '{prefix}' (--prefix; an application sets its own with TypedTasks:RedisTransport:KeyPrefix)."
                : Table(
                    ["QUEUE", "PENDING", "SCHEDULED", "RUNNING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED", "WORKERS"],
                    queues.Select(q => new[]
                    {
                        q.Name, q.Counts.Held > 0 ? $"{N(q.Counts.Pending)} ({N(q.Counts.Held)} held)" : N(q.Counts.Pending), N(q.Counts.Scheduled), N(q.Counts.Started), N(q.Counts.Retrying),
                        N(q.Counts.Succeeded), N(q.Counts.Failed), N(q.Counts.Canceled), N(q.Counts.Expired),
                        q.Unserved ? "NONE (!)" : N(q.Workers.Count),
                    })));
            var unserved = queues.Where(q => q.Unserved).Select(q => q.Name).ToList();
            if (unserved.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine($"(!) No live worker serves {string.Join(", ", unserved)}: their tasks wait until a worker with the same key prefix lists the queue in WorkerOptions.Queues (TypedTasks:Worker:Queues).");
            }

            if (queues.FirstOrDefault(q => q.Counts.Held > 0) is { } holding)
            {
                Console.WriteLine();
                Console.WriteLine($"(held: pending tasks a rate or concurrency limit holds back until it lets them start; typedtasks limits {holding.Name} shows the limits)");
            }

            Console.WriteLine();
            PrintWorkers(workers);
            return 0;
        }

        private static async Task<int> WorkersAsync(ITaskInspector inspector, bool json)
        {
            var workers = await inspector.GetWorkersAsync();
            if (json)
            {
                Print(new { model = InspectorModel.Version, workers = workers.Select(WorkerJson) });
                return 0;
            }

            PrintWorkers(workers);
            return 0;
        }

        private static object WorkerJson(WorkerSummary w) => new
        {
            id = w.Id,
            host = w.Host,
            pid = w.Pid,
            queues = w.Queues,
            concurrency = w.Concurrency,
            running = w.Running,
            tasks = w.Tasks,
            last_seen = Time(w.LastSeen),
            heartbeat_age_s = Math.Round(w.HeartbeatAge.TotalSeconds, 1),
        };

        private static void PrintWorkers(IReadOnlyList<WorkerSummary> workers)
            => Console.WriteLine(workers.Count == 0
                ? "No live workers."
                : Table(
                    ["WORKER", "HOST", "PID", "QUEUES", "CONCURRENCY", "RUNNING", "HEARTBEAT"],
                    workers.Select(w => new[] { w.Id, w.Host, N(w.Pid), string.Join(",", w.Queues), N(w.Concurrency), N(w.Running.Count), $"{w.HeartbeatAge.TotalSeconds:0.0} s ago" })));

        private static async Task<int> WorkflowAsync(ITaskInspector inspector, string id, bool json)
        {
            var details = await inspector.FindWorkflowAsync(id);
            if (details is null)
            {
                return Fail(1, $"no workflow of '{id}' is stored (not a task or the id of a workflow, or its workflow ended longer ago than the result TTL)");
            }

            if (json)
            {
                Print(new Dictionary<string, object?>
                {
                    ["model"] = InspectorModel.Version,
                    ["workflow"] = details.WorkflowId,
                    ["where"] = details.Where,
                    ["stages"] = details.Stages.Select(s => new
                    {
                        step = s.StepId,
                        state = s.State,
                        members = s.Members,
                        arrived = s.Arrived,
                        outcomes = s.Outcomes.OrderBy(o => o.Key).Select(o => new { member = s.MemberIds[o.Key], state = o.Value.ToString() }),
                    }),
                });
                return 0;
            }

            Console.WriteLine($"workflow {details.WorkflowId}: {details.Where}");
            foreach (var stage in details.Stages)
            {
                var failed = stage.Outcomes.Where(o => o.Value != TaskState.Succeeded).Select(o => $"{stage.MemberIds[o.Key]} {o.Value}").ToList();
                Console.WriteLine($"  {stage.StepId}  {stage.State}  {stage.Arrived}/{stage.Members} members ended" + (failed.Count == 0 ? string.Empty : "; not succeeded: " + string.Join(", ", failed.Take(5))));
            }

            return 0;
        }

        private static async Task<int> InspectAsync(ITaskInspector inspector, string id, bool json)
        {
            var task = await inspector.GetTaskAsync(id);
            if (task is null)
            {
                return Fail(1, NoTask(id));
            }

            var report = new Dictionary<string, object?>
            {
                ["model"] = InspectorModel.Version,
                ["id"] = task.Id,
                ["task"] = task.TaskName,
                ["state"] = task.State.ToString(),
                ["attempt"] = task.Attempt,
                ["queue"] = task.Queue,
                ["priority"] = task.Priority,
                ["updated_at"] = Time(task.UpdatedAt),
                ["enqueued_at"] = Time(task.EnqueuedAt),
                ["eta"] = Time(task.Eta),
                ["expires_at"] = Time(task.ExpiresAt),
                [task.State == TaskState.Started ? "lease_until" : "due_at"] = Time(task.DueAt),
                ["worker"] = task.Worker,
                ["arguments"] = Element(task.Arguments),
                ["arguments_named"] = task.ArgumentsNamed,
                ["headers"] = task.Headers.Count == 0 ? null : task.Headers,
                ["result"] = Element(task.Result),
                ["error"] = task.ErrorType is null ? null : new { type = task.ErrorType, message = task.ErrorMessage, details = task.ErrorStackTrace },
                ["message_bytes"] = task.EnvelopeSize,
                ["message_problem"] = task.EnvelopeProblem,
            };
            if (json)
            {
                Print(report);
                return 0;
            }

            foreach (var (key, value) in report.Where(p => p.Value is not null && p.Key is not ("model" or "error" or "arguments_named" or "message_bytes")))
            {
                var shown = (key, value) switch
                {
                    ("attempt", 0) => "not started",
                    ("headers", IReadOnlyDictionary<string, string> headers) => string.Join(", ", headers.Select(h => $"{h.Key}={h.Value}")),
                    (_, JsonElement element) => element.GetRawText(),
                    _ => value,
                };
                Console.WriteLine($"{key,-15} {shown}");
            }

            if (task.ErrorType is not null)
            {
                var head = $"{task.ErrorType}: {task.ErrorMessage}";
                Console.WriteLine($"{"error",-15} {head}");
                if (task.ErrorStackTrace is { Length: > 0 } stack)
                {
                    // A .NET worker keeps the exception's whole text, whose first line is the one just printed.
                    Console.WriteLine(stack.StartsWith(head + "\n", StringComparison.Ordinal) ? stack[(head.Length + 1)..]
                        : stack.StartsWith(head + "\r\n", StringComparison.Ordinal) ? stack[(head.Length + 2)..]
                        : stack);
                }
            }

            return 0;
        }

        private static async Task<int> TasksAsync(ITaskInspector inspector, string queue, TaskState state, long offset, int count, bool json)
        {
            var page = await inspector.GetTasksAsync(queue, state, offset, count);
            if (page.Count == 0 && await UnknownQueueAsync(inspector, queue) is { } unknown)
            {
                return unknown;
            }

            if (json)
            {
                Print(new { model = InspectorModel.Version, queue, state = state.ToString(), offset, count, tasks = page.Select(SummaryJson) });
                return 0;
            }

            if (page.Count == 0)
            {
                Console.WriteLine(offset == 0 ? $"No {state} tasks in '{queue}'." : $"No {state} tasks in '{queue}' past {offset}.");
                return 0;
            }

            Console.WriteLine(Table(
                ["ID", "TASK", "STATE", "ATTEMPT", "PRIORITY", "UPDATED", "DUE", "ERROR"],
                page.Select(t => new[] { t.Id, t.TaskName, t.State.ToString(), N(t.Attempt), N(t.Priority), Time(t.UpdatedAt)!, Time(t.DueAt) ?? "", Error(t) })));
            if (page.Count == count)
            {
                Console.WriteLine($"(more may follow: --offset {offset + count})");
            }

            return 0;
        }

        private static object SummaryJson(TaskSummary t) => new
        {
            id = t.Id,
            task = t.TaskName,
            state = t.State.ToString(),
            attempt = t.Attempt,
            queue = t.Queue,
            priority = t.Priority,
            updated_at = Time(t.UpdatedAt),
            due_at = Time(t.DueAt),
            error = t.ErrorType is null ? null : new { type = t.ErrorType, message = t.ErrorMessage },
        };

        /// <summary>The newest failed tasks of one queue, or, with no queue named, of every queue the store knows.</summary>
        private static async Task<int> DeadListAsync(ITaskInspector inspector, string? queue, int count, bool json)
        {
            var queues = queue is null
                ? (await inspector.GetQueuesAsync()).Where(q => q.Counts.Failed > 0).ToList()
                : [.. new[] { await inspector.GetQueueAsync(queue) }.OfType<QueueSummary>()];
            var rows = new List<TaskSummary>();
            long total = 0;
            foreach (var q in queues)
            {
                total += q.Counts.Failed;
                rows.AddRange(await inspector.GetTasksAsync(q.Name, TaskState.Failed, 0, count));
            }

            if (queue is not null && queues.Count == 0)
            {
                return Fail(1, UnknownQueue(queue));
            }

            if (json)
            {
                Print(new { model = InspectorModel.Version, total, tasks = rows.Select(SummaryJson) });
                return 0;
            }

            if (rows.Count == 0)
            {
                Console.WriteLine(queue is not null ? $"No failed tasks in '{queue}'." : "No failed tasks in any queue.");
                return 0;
            }

            Console.WriteLine(Table(["QUEUE", "FAILED AT", "ID", "TASK", "ATTEMPT", "ERROR"], rows.Select(t => new[] { t.Queue, Time(t.UpdatedAt)!, t.Id, t.TaskName, N(t.Attempt), Error(t) })));
            if (total > rows.Count)
            {
                Console.WriteLine($"({rows.Count} of {total} shown, newest first; page with: typedtasks tasks QUEUE --state Failed --offset N)");
            }

            return 0;
        }

        private static async Task<int> DeadRetryAsync(ITaskInspector inspector, string queue, bool yes, bool json)
        {
            var failed = (await inspector.GetQueueAsync(queue))?.Counts.Failed ?? 0;
            if (failed == 0)
            {
                return Done(json, new { queue, retried = 0, failed = 0 }, $"No failed tasks in '{queue}'.");
            }

            if (!Confirm($"Run the {failed} failed task(s) of '{queue}' again?", yes))
            {
                return 1;
            }

            var retried = await inspector.RetryAllFailedAsync(queue, Progress(json, "retried"));
            var left = (await inspector.GetQueueAsync(queue))?.Counts.Failed ?? 0;
            return Done(json, new { queue, retried, failed = left }, $"Retried {retried} task(s) from the failed tasks of '{queue}'."
                + (left == 0 ? string.Empty : $" {left} stay failed: a group's own result (task TypedTasks.Group) or a record kept without its message has no task to run again (a group's failed members were retried), and a task that failed again meanwhile waits for the next retry; 'typedtasks dead list {queue}' shows them."));
        }

        private static async Task<int> DeadPurgeAsync(ITaskInspector inspector, string queue, bool yes, bool json)
        {
            var failed = (await inspector.GetQueueAsync(queue))?.Counts.Failed ?? 0;
            if (failed == 0)
            {
                return Done(json, new { queue, deleted = 0 }, $"No failed tasks in '{queue}'.");
            }

            if (!Confirm($"Delete the {failed} failed task(s) of '{queue}'?", yes))
            {
                return 1;
            }

            var deleted = await inspector.DeleteAllAsync(queue, TaskState.Failed, Progress(json, "deleted"));
            return Done(json, new { queue, deleted }, $"Deleted {deleted} failed task(s) of '{queue}'.");
        }

        private static async Task<int> PurgeAsync(ITaskInspector inspector, string queue, bool yes, bool json)
        {
            var counts = (await inspector.GetQueueAsync(queue))?.Counts;
            var waiting = counts is null ? 0 : counts.Pending + counts.Scheduled + counts.Retrying;
            if (waiting == 0)
            {
                return Done(json, new { queue, pending = 0, scheduled = 0, retrying = 0 }, $"Queue '{queue}' has no waiting tasks.");
            }

            if (!Confirm($"Delete {counts!.Pending} pending, {counts.Scheduled} scheduled and {counts.Retrying} retrying task(s) of '{queue}'? They will never run.", yes))
            {
                return 1;
            }

            var pending = await inspector.PurgeAsync(queue, Progress(json, "deleted pending"));
            var scheduled = await inspector.DeleteAllAsync(queue, TaskState.Scheduled, Progress(json, "deleted scheduled"));
            var retrying = await inspector.DeleteAllAsync(queue, TaskState.Retrying, Progress(json, "deleted retrying"));
            return Done(json, new { queue, pending, scheduled, retrying }, $"Deleted {pending} pending, {scheduled} scheduled and {retrying} retrying task(s) of '{queue}'.");
        }

        private static async Task<int> CancelAsync(ITaskInspector inspector, string id, bool json)
        {
            if (await inspector.CancelAsync(id))
            {
                return Done(json, new { id, canceled = true }, $"Canceled {id}.");
            }

            var task = await inspector.GetTaskAsync(id);
            if (json)
            {
                Report(new { id, canceled = false, state = task?.State.ToString() });
            }

            return task is null
                ? Fail(1, NoTask(id))
                : Fail(1, $"task {id} had already ended: {task.State}.");
        }

        private static int Done(bool json, object report, string text)
        {
            if (json)
            {
                Report(report);
            }
            else
            {
                Console.WriteLine(text);
            }

            return 0;
        }

        /// <summary>The running total of a long operation on stderr, so that stdout keeps only the result.</summary>
        private static IProgress<int>? Progress(bool json, string what)
            => json || Console.IsErrorRedirected ? null : new Reporter(what);

        private sealed class Reporter(string what) : IProgress<int>
        {
            public void Report(int value) => Console.Error.WriteLine($"... {what} {value}");
        }

        private static bool Confirm(string question, bool yes)
        {
            if (yes)
            {
                return true;
            }

            // The question goes to stderr: stdout keeps only the result (a --json document stays one).
            Console.Error.Write($"{question} Type 'yes' to go on: ");
            var answer = Console.IsInputRedirected && Console.In.Peek() < 0 ? null : Console.ReadLine();
            if (answer?.Trim() == "yes")
            {
                return true;
            }

            Console.Error.WriteLine();
            Console.Error.WriteLine("typedtasks: nothing done (answer 'yes', or pass --yes)");
            return false;
        }

        /// <summary>A key prefix is checked while parsing, so a bad one is a usage error with the command's help.</summary>
        private static void ValidPrefix(OptionResult result)
        {
            var prefix = result.GetValueOrDefault<string?>();
            if (string.IsNullOrWhiteSpace(prefix) || prefix.AsSpan().IndexOfAny('{', '}') >= 0)
            {
                result.AddError($"--prefix: '{prefix}' is not a valid key prefix: {KeyPrefixRule}");
            }
        }

        /// <summary>
        /// The value of an option whose token parsed; false for one that did not, which the parser
        /// reports itself (a usage error, exit 2), so that a validator checks only parsed values.
        /// </summary>
        private static bool Parsed<T>(OptionResult result, out T value)
        {
            try
            {
                value = result.GetValueOrDefault<T>()!;
                return true;
            }
            catch (InvalidOperationException)
            {
                value = default!;
                return false;
            }
        }

        /// <summary>A queue name is checked while parsing, so a bad one is a usage error with the command's help.</summary>
        private static void ValidQueue(ArgumentResult result)
        {
            if (result.GetValueOrDefault<string?>() is { } queue && InspectorModel.QueueNameProblem(queue) is { } problem)
            {
                result.AddError(problem);
            }
        }

        private static void Print(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

        /// <summary>What an action did, as JSON: "model" first, as in every document the tool prints.</summary>
        private static void Report(object report)
        {
            var document = new System.Text.Json.Nodes.JsonObject { ["model"] = InspectorModel.Version };
            foreach (var (name, value) in JsonSerializer.SerializeToNode(report, Json)!.AsObject())
            {
                document[name] = value?.DeepClone();
            }

            Print(document);
        }

        private static JsonElement? Element(string? json)
        {
            if (json is null)
            {
                return null;
            }

            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 128 });
            return document.RootElement.Clone();
        }

        private static string? Time(DateTimeOffset? time) => time?.ToString("O", CultureInfo.InvariantCulture);

        private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Error(TaskSummary task) => task.ErrorType is null ? "" : $"{task.ErrorType}: {OneLine(task.ErrorMessage)}";

        private static string OneLine(string? text)
        {
            var line = (text ?? "").Split('\n')[0].Trim();
            return line.Length > 80 ? line[..79] + "\u2026" : line;
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

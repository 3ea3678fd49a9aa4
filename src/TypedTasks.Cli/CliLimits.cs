using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Inspection;

namespace TypedTasks.Cli
{
    /// <summary>typedtasks limits and locks: the rate and concurrency limits of a queue, the tasks they hold back, and its unique locks.</summary>
    internal static partial class Cli
    {
        private static Command LimitsCommand(string[] secrets, Option<bool> json, Func<string, Argument<string>> queueArgument, Option<long> offset, Option<int> count)
        {
            var queue = queueArgument("The queue whose limits are listed");
            var held = new Option<string?>("--held") { Description = "List the tasks the limit with this key holds back: its key as limits --json gives it, the task name, then for a limit per key | and the parameter with its value ('Import|tenant=\"acme\"')", HelpName = "KEY" };
            held.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<string?>() is { } key && (key.Length == 0 || key.Length > TypedTasks.Store.TaskLimit.MaxKeyLength))
                {
                    r.AddError($"--held: a limit key has 1 to {TypedTasks.Store.TaskLimit.MaxKeyLength} characters");
                }
            });
            var kind = new Option<LimitKind?>("--kind") { Description = "With --held: which of the key's limits, Concurrency or Rate (needed only when the key has both)", HelpName = "KIND" };
            var limits = new Command("limits", "The rate and concurrency limits of a queue in use: what each allows, what it counts now and how many tasks it holds back; with --held KEY, those tasks")
            {
                queue, held, kind, offset, count, json,
            };
            limits.Validators.Add(r =>
            {
                if (r.GetResult(held) is null && (r.GetResult(kind) is not null || r.GetResult(offset) is { Implicit: false } || r.GetResult(count) is { Implicit: false }))
                {
                    r.AddError("--kind, --offset and --count page the tasks a limit holds back: give the limit with --held KEY");
                }
            });
            limits.SetAction((p, _) => WithInspectorAsync(p, secrets, i => p.GetValue(held) is { } key
                ? HeldAsync(i, p.GetValue(queue)!, key, p.GetValue(kind), p.GetValue(offset), p.GetValue(count), p.GetValue(json))
                : LimitsAsync(i, p.GetValue(queue)!, p.GetValue(json))));
            return limits;
        }

        private static Command LocksCommand(string[] secrets, Option<bool> json, Func<string, Argument<string>> queueArgument)
        {
            var queue = queueArgument("The queue whose unique locks are listed");
            var locks = new Command("locks", "The unique locks of a queue that hold: key, the task an enqueue with the key returns, its state, and when the lock lapses") { queue, json };
            locks.SetAction((p, _) => WithInspectorAsync(p, secrets, i => LocksAsync(i, p.GetValue(queue)!, p.GetValue(json))));
            return locks;
        }

        private static async Task<int> LimitsAsync(ITaskInspector inspector, string queue, bool json)
        {
            var limits = await inspector.GetLimitsAsync(queue);
            if (limits.Count == 0 && await UnknownQueueAsync(inspector, queue) is { } unknown)
            {
                return unknown;
            }

            if (json)
            {
                Print(new
                {
                    model = InspectorModel.Version,
                    queue,
                    limits = limits.Select(l => new
                    {
                        key = l.Key,
                        task = l.Task,
                        per_key = l.PerKey,
                        kind = l.Kind.ToString(),
                        count = l.Count,
                        per_ms = l.Per is { } per ? (long?)per.TotalMilliseconds : null,
                        active = l.Active,
                        held = l.Held,
                    }),
                });
                return 0;
            }

            if (limits.Count == 0)
            {
                Console.WriteLine($"No limit in use in '{queue}' (no limited task runs, started in its window or waits).");
                return 0;
            }

            Console.WriteLine(Table(
                ["TASK", "PER KEY", "KIND", "LIMIT", "ACTIVE", "HELD"],
                limits.Select(l => new[] { l.Task, l.PerKey ?? "-", l.Kind == LimitKind.Rate ? "rate" : "concurrency", Allows(l), N(l.Active), N(l.Held) })));
            if (limits.FirstOrDefault(l => l.Held > 0) is { } holding)
            {
                Console.WriteLine();
                Console.WriteLine($"(held tasks: typedtasks limits {queue} --held {Quoted(holding.Key)}{(limits.Count(l => l.Key == holding.Key) > 1 ? " --kind " + holding.Kind : "")})");
            }

            if (limits.Count == InspectorModel.MaxPageSize)
            {
                Console.WriteLine($"(the first {limits.Count} limits in key order; more may be in use)");
            }

            return 0;
        }

        private static async Task<int> HeldAsync(ITaskInspector inspector, string queue, string key, LimitKind? kind, long offset, int count, bool json)
        {
            if (kind is null)
            {
                // The key alone names the limit unless the task has both kinds under it.
                var kinds = (await inspector.GetLimitsAsync(queue)).Where(l => l.Key == key).Select(l => l.Kind).ToList();
                if (kinds.Count > 1)
                {
                    return Fail(2, $"'{key}' has a concurrency and a rate limit in '{queue}': say which with --kind Concurrency or --kind Rate");
                }

                if (kinds.Count == 0)
                {
                    return Fail(1, $"no limit '{key}' in use in '{queue}' (typedtasks limits {queue} lists them; a limit with no running, recent or waiting task is not listed)");
                }

                kind = kinds[0];
            }

            var page = await inspector.GetHeldTasksAsync(queue, key, kind.Value, offset, count);
            if (json)
            {
                Print(new { model = InspectorModel.Version, queue, key, kind = kind.Value.ToString(), offset, count, tasks = page.Select(SummaryJson) });
                return 0;
            }

            if (page.Count == 0)
            {
                Console.WriteLine(offset == 0 ? $"The {kind.Value.ToString().ToLowerInvariant()} limit '{key}' of '{queue}' holds back no task." : $"The {kind.Value.ToString().ToLowerInvariant()} limit '{key}' of '{queue}' holds back no task past {offset}.");
                return 0;
            }

            Console.WriteLine(Table(
                ["ID", "TASK", "STATE", "ATTEMPT", "PRIORITY", "UPDATED"],
                page.Select(t => new[] { t.Id, t.TaskName, t.State.ToString(), N(t.Attempt), N(t.Priority), Time(t.UpdatedAt)! })));
            if (page.Count == count)
            {
                Console.WriteLine($"(more may follow: --offset {offset + count})");
            }

            return 0;
        }

        private static async Task<int> LocksAsync(ITaskInspector inspector, string queue, bool json)
        {
            var locks = await inspector.GetLocksAsync(queue);
            if (locks.Count == 0 && await UnknownQueueAsync(inspector, queue) is { } unknown)
            {
                return unknown;
            }

            var now = DateTimeOffset.UtcNow;

            // A lock names its task, not its state: one read per lock, at most a page of them, sent together.
            var states = await Task.WhenAll(locks.Select(l => StateAsync(inspector, l.TaskId)));
            if (json)
            {
                Print(new
                {
                    model = InspectorModel.Version,
                    queue,
                    locks = locks.Select((l, i) => new
                    {
                        key = l.Key,
                        task_id = l.TaskId,
                        state = states[i],
                        expires_at = Time(l.ExpiresAt),
                        expires_in_s = Math.Max(0, Math.Round((l.ExpiresAt - now).TotalSeconds, 1)),
                    }),
                });
                return 0;
            }

            if (locks.Count == 0)
            {
                Console.WriteLine($"No unique lock holds in '{queue}'.");
                return 0;
            }

            Console.WriteLine(Table(
                ["KEY", "TASK ID", "STATE", "EXPIRES IN"],
                locks.Select((l, i) => new[] { l.Key, l.TaskId, states[i] ?? "gone", In(l.ExpiresAt - now) })));
            return 0;
        }

        /// <summary>A task's state, or null when its record is gone or lost.</summary>
        private static async Task<string?> StateAsync(ITaskInspector inspector, string id)
        {
            try
            {
                return (await inspector.GetTaskAsync(id))?.State.ToString();
            }
            catch (TaskNotFoundException)
            {
                return null;
            }
        }

        /// <summary>What a limit allows: "2 at once" or "10 per 1s".</summary>
        private static string Allows(LimitSummary limit)
            => limit.Per is { } per ? $"{N(limit.Count)} per {Span(per)}" : $"{N(limit.Count)} at once";

        /// <summary>A window or a wait in its largest whole unit: 1s, 90s, 5m, 1h, 1d, 250ms.</summary>
        private static string Span(TimeSpan span)
            => span.Ticks % TimeSpan.TicksPerDay == 0 ? $"{span.TotalDays:0}d"
                : span.Ticks % TimeSpan.TicksPerHour == 0 ? $"{span.TotalHours:0}h"
                : span.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{span.TotalMinutes:0}m"
                : span.Ticks % TimeSpan.TicksPerSecond == 0 ? $"{span.TotalSeconds:0}s"
                : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0.###}ms");

        /// <summary>How long until a lock lapses, to the second: 4m 10s.</summary>
        private static string In(TimeSpan left)
        {
            if (left <= TimeSpan.Zero)
            {
                return "now";
            }

            var seconds = (long)Math.Ceiling(left.TotalSeconds);
            return seconds switch
            {
                < 60 => $"{seconds}s",
                < 3600 => $"{seconds / 60}m {seconds % 60}s",
                < 86400 => $"{seconds / 3600}h {seconds % 3600 / 60}m",
                _ => $"{seconds / 86400}d {seconds % 86400 / 3600}h",
            };
        }

        /// <summary>A key as a POSIX shell takes it back: in single quotes.</summary>
        private static string Quoted(string key) => "'" + key.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}

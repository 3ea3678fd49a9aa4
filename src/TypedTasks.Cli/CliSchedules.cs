using System.CommandLine;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Inspection;
using TypedTasks.Scheduling;

namespace TypedTasks.Cli
{
    /// <summary>typedtasks schedules: list the schedules, trigger one, pause or resume it.</summary>
    internal static partial class Cli
    {
        private static Command SchedulesCommand(string[] secrets, Option<bool> json)
        {
            Argument<string> Name(string what) => new("NAME") { Description = what };

            var list = new Command("list", "Every schedule: its task, queue, cron and zone, next fire time, last run and its state") { json };
            list.SetAction((p, _) => WithInspectorAsync(p, secrets, i => SchedulesListAsync(i, p.GetValue(json))));

            var triggerName = Name("The schedule to run once now");
            var trigger = new Command("trigger", "Run a schedule once now, outside its fire times: a worker serving its queue enqueues the run as soon as it hears of it (within SafetyLookInterval when the change was not announced)") { triggerName, json };
            trigger.SetAction((p, _) => WithInspectorAsync(p, secrets, i => ScheduleActionAsync(i.TriggerScheduleAsync, p.GetValue(triggerName)!, "triggered", "A run is requested: a worker serving its queue enqueues it as soon as it hears of it.", p.GetValue(json))));

            var pauseName = Name("The schedule to pause");
            var pause = new Command("pause", "Stop firing a schedule until it is resumed") { pauseName, json };
            pause.SetAction((p, _) => WithInspectorAsync(p, secrets, i => ScheduleActionAsync(i.PauseScheduleAsync, p.GetValue(pauseName)!, "paused", "It fires nothing until resumed.", p.GetValue(json))));

            var resumeName = Name("The schedule to resume");
            var resume = new Command("resume", "Fire a paused schedule again, from its next fire time after now") { resumeName, json };
            resume.SetAction((p, _) => WithInspectorAsync(p, secrets, i => ScheduleActionAsync(i.ResumeScheduleAsync, p.GetValue(resumeName)!, "resumed", "Fire times passed while it was paused do not run.", p.GetValue(json))));

            var schedules = new Command("schedules", "Periodic tasks and dynamic schedules: list, trigger, pause, resume") { list, trigger, pause, resume, json };
            schedules.SetAction((p, _) => WithInspectorAsync(p, secrets, i => SchedulesListAsync(i, p.GetValue(json))));
            return schedules;
        }

        private static async Task<int> SchedulesListAsync(ITaskInspector inspector, bool json)
        {
            var all = await inspector.GetSchedulesAsync();
            if (json)
            {
                Print(new { model = InspectorModel.Version, schedules = all.Select(ScheduleJson) });
                return 0;
            }

            // A schedule is fired by the workers serving its queue: with none live, nothing fires it.
            var served = (await inspector.GetWorkersAsync()).SelectMany(w => w.Queues).ToHashSet(System.StringComparer.Ordinal);
            var unserved = all.Where(s => s.Problem is null && !s.Paused && !served.Contains(s.Queue)).ToList();
            System.Console.WriteLine(all.Count == 0
                ? "No schedules."
                : Table(
                    ["SCHEDULE", "TASK", "QUEUE", "CRON", "ZONE", "NEXT", "LAST", "LAST STATE", "STATUS"],
                    all.Select(s => new[]
                    {
                        s.Name, s.TaskName, s.Queue, s.Cron, s.TimeZone, Time(s.NextFireAt) ?? "-", Time(s.LastFireAt) ?? "-",
                        s.LastFireAt is null ? "-" : s.LastTaskId is null ? "skipped" : s.LastState?.ToString() ?? "unknown",
                        (s.Problem is not null ? "BROKEN (!)" : s.Paused ? "paused" : s.TriggerPending ? "trigger waiting" : "active") + (unserved.Contains(s) ? " (!)" : ""),
                    })));
            foreach (var broken in all.Where(s => s.Problem is not null))
            {
                System.Console.WriteLine($"(!) {broken.Name}: {broken.Problem}");
            }

            foreach (var idle in unserved)
            {
                System.Console.WriteLine($"(!) {idle.Name}: no live worker serves queue '{idle.Queue}', so nothing fires it: start a worker with '{idle.Queue}' among its queues (TypedTasks:Worker:Queues) on the same Redis and key prefix.");
            }

            return 0;
        }

        private static object ScheduleJson(ScheduleInfo s) => new
        {
            name = s.Name,
            task = s.TaskName,
            queue = s.Queue,
            cron = s.Cron,
            zone = s.TimeZone,
            misfire = s.Misfire.ToString(),
            overlap = s.Overlap.ToString(),
            declared = s.Declared,
            paused = s.Paused,
            generation = s.Generation,
            next_fire_at = Time(s.NextFireAt),
            next_fire_times = s.NextFireTimes.Select(t => Time(t)),
            last_fire_at = Time(s.LastFireAt),
            last_task_id = s.LastTaskId,
            last_state = s.LastState?.ToString(),
            trigger_pending = s.TriggerPending,
            problem = s.Problem,
        };

        private static async Task<int> ScheduleActionAsync(System.Func<string, System.Threading.CancellationToken, Task<bool>> action, string name, string done, string what, bool json)
        {
            if (await action(name, default))
            {
                return Done(json, new { schedule = name, done }, $"Schedule '{name}' {done}. {what}");
            }

            if (json)
            {
                Report(new { schedule = name, done = (string?)null });
            }

            return Fail(1, $"no schedule named '{name}' (typedtasks schedules list shows them)");
        }
    }
}

using System.Collections.Concurrent;
using App;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTasks;

// With "--redis HOST:PORT" the same checks run on Redis: configuration alone (TypedTasks:Redis)
// selects the Redis transport, as it would from appsettings.json or the environment.
var redisAt = Array.IndexOf(args, "--redis");
var builder = Host.CreateApplicationBuilder();
if (redisAt >= 0)
{
    builder.Configuration["TypedTasks:Redis"] = args[redisAt + 1];
}

builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("TypedTasks", LogLevel.None);
builder.Services.AddSingleton<ISmtp, RecordingSmtp>();
builder.Services.AddTypedTasks().AddWorker(w => w.Concurrency = 16);
using var host = builder.Build();
await host.StartAsync();

var wait = TimeSpan.FromSeconds(30);
var failures = 0;
var passed = 0;

await Check("typed int result, awaited two ways", async () =>
{
    AsyncResult<int> r = await Tasks.Add.EnqueueAsync(2, 3);
    int sum = await r.GetAsync(wait);
    int again = await r;
    Expect(sum == 5 && again == 5, $"got {sum}, {again}");
    Expect(await r.GetStateAsync() == TaskState.Succeeded, "state");
});

await Check("record argument and result through Task<T> with a CancellationToken", async () =>
{
    var report = await (await Tasks.BuildReport.EnqueueAsync(new ReportRequest("q3", [1.5m, 2.5m]))).GetAsync(wait);
    Expect(report is { Name: "q3", Total: 4.0m }, $"got {report}");
});

await Check("collections, nullables and ValueTask<T>", async () =>
{
    List<string> words = await await Tasks.Split.EnqueueAsync("a b c");
    Expect(words.SequenceEqual(["a", "b", "c"]), string.Join(",", words));
    int? none = await await Tasks.Parse.EnqueueAsync("x");
    int? some = await await Tasks.Parse.EnqueueAsync("7");
    Expect(none is null && some == 7, $"{none} {some}");
});

await Check("a typed handle from an id", async () =>
{
    var r = await Tasks.Add.EnqueueAsync(20, 22);
    AsyncResult<int> byId = Tasks.Add.GetResult(r.Id);
    Expect(await byId.GetAsync(wait) == 42, "value");
});

await Check("instance task resolved from DI, void-like", async () =>
{
    AsyncResult sent = await Tasks.SendWelcome.EnqueueAsync("ada@example.org");
    await sent.GetAsync(wait);
    Expect(RecordingSmtp.Sent.Contains("ada@example.org"), "not sent");
});

await Check("void, Task and ValueTask tasks", async () =>
{
    await await Tasks.Note.EnqueueAsync("n1");
    await await Tasks.NoteLater.EnqueueAsync("n2");
    await await Tasks.NoteNow.EnqueueAsync("n3");
    Expect(Notes.All.Contains("n1") && Notes.All.Contains("n2") && Notes.All.Contains("n3"), string.Join(",", Notes.All));
});

await Check("a failure throws TaskFailedException with the remote error", async () =>
{
    var r = await Tasks.Explode.EnqueueAsync("kaboom");
    try
    {
        await r.GetAsync(wait);
        Expect(false, "no exception");
    }
    catch (TaskFailedException e)
    {
        Expect(e.RemoteType == "System.ArgumentException" && e.Error.Message.StartsWith("kaboom", StringComparison.Ordinal) && e.RemoteStackTrace!.Contains("Explode", StringComparison.Ordinal), e.Message);
    }
});

await Check("retries until success", async () =>
{
    var r = await Tasks.Flaky.EnqueueAsync(Guid.NewGuid().ToString());
    Expect(await r.GetAsync(wait) == 3, "attempts");
});

await Check("a task that outlives its timeout fails", async () =>
{
    var r = await Tasks.Sleep.EnqueueAsync(5000);
    try
    {
        await r.GetAsync(wait);
        Expect(false, "no exception");
    }
    catch (TaskFailedException e)
    {
        Expect(e.RemoteType == "TypedTasks.TaskTimeoutException", e.RemoteType);
    }
});

await Check("a delayed task is Scheduled, then runs", async () =>
{
    var started = DateTimeOffset.UtcNow;
    var r = await Tasks.Add.With(new EnqueueOptions { Delay = TimeSpan.FromSeconds(1.5) }).EnqueueAsync(1, 1);
    Expect(await r.GetStateAsync() == TaskState.Scheduled, "not scheduled");
    Expect(await r.GetAsync(wait) == 2, "value");
    Expect(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(1450), "ran early");
});

await Check("2000 concurrent enqueues", async () =>
{
    var handles = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => Tasks.Add.EnqueueAsync(i, 1)));
    var values = await Task.WhenAll(handles.Select(h => h.GetAsync(wait)));
    Expect(values.Select((v, i) => v == i + 1).All(ok => ok), "wrong results");
});

await Check("an unknown id is never taken for a pending task", async () =>
{
    var unknown = Tasks.Add.GetResult("never-enqueued");
    Expect(await unknown.GetInfoAsync() is null, "info");
    foreach (var ask in new Func<Task>[] { async () => await unknown.GetStateAsync(), () => unknown.GetAsync(wait) })
    {
        try
        {
            await ask();
            Expect(false, "no TaskNotFoundException");
        }
        catch (TaskNotFoundException e)
        {
            Expect(e.TaskId == "never-enqueued" && !e.Lost, "exception");
        }
    }
});

await Check("a referenced task library is discovered without a registration line", async () =>
{
    // The worker built its dispatch table at start, before any TaskLib type was touched here.
    var r = await TaskLib.Tasks.Multiply.EnqueueAsync(6, 7);
    Expect(await r.GetAsync(wait) == 42L, "value");
});

await host.StopAsync();
Console.WriteLine($"contract: {passed} passed, {failures} failed");
return failures == 0 ? 0 : 1;

async Task Check(string name, Func<Task> body)
{
    try
    {
        await body();
        passed++;
        Console.WriteLine($"PASS {name}");
    }
    catch (Exception e)
    {
        failures++;
        Console.WriteLine($"FAIL {name}: {e.GetType().Name}: {e.Message}");
    }
}

static void Expect(bool condition, string message)
{
    if (!condition)
    {
        throw new InvalidOperationException(message);
    }
}

namespace App
{
    public sealed record ReportRequest(string Name, decimal[] Amounts);

    public sealed record Report(string Name, decimal Total);

    public interface ISmtp
    {
        Task SendAsync(string address, CancellationToken ct);
    }

    public sealed class RecordingSmtp : ISmtp
    {
        public static ConcurrentBag<string> Sent { get; } = [];

        public Task SendAsync(string address, CancellationToken ct)
        {
            Sent.Add(address);
            return Task.CompletedTask;
        }
    }

    public static class Notes
    {
        public static ConcurrentBag<string> All { get; } = [];
    }

    public static class MathTasks
    {
        private static readonly ConcurrentDictionary<string, int> Calls = new();

        [Task]
        public static int Add(int x, int y) => x + y;

        [Task("reports.build", Queue = "default", MaxRetries = 1, Timeout = "00:02:00")]
        public static async Task<Report> BuildReport(ReportRequest request, CancellationToken ct)
        {
            await Task.Delay(10, ct);
            return new Report(request.Name, request.Amounts.Sum());
        }

        [Task] public static List<string> Split(string text) => [.. text.Split(' ')];

        [Task] public static ValueTask<int?> Parse(string text) => new(int.TryParse(text, out var n) ? n : null);

        [Task] public static void Note(string text) => Notes.All.Add(text);

        [Task] public static async Task NoteLater(string text) { await Task.Yield(); Notes.All.Add(text); }

        [Task] public static ValueTask NoteNow(string text) { Notes.All.Add(text); return default; }

        [Task] public static int Explode(string message) => throw new ArgumentException(message);

        [Task(MaxRetries = 5, RetryDelay = "00:00:00.020")]
        public static int Flaky(string key)
        {
            var n = Calls.AddOrUpdate(key, 1, (_, c) => c + 1);
            return n < 3 ? throw new IOException("transient") : n;
        }

        [Task(Timeout = "00:00:00.100")]
        public static async Task<int> Sleep(int milliseconds, CancellationToken ct)
        {
            await Task.Delay(milliseconds, ct);
            return milliseconds;
        }
    }

    public sealed class EmailTasks(ISmtp smtp)
    {
        [Task]
        public Task SendWelcome(string address, CancellationToken ct) => smtp.SendAsync(address, ct);
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Celery.TestWorker;

/// <summary>The .NET side of the Celery tasks the tests send from Python; the same names as python/proj.py.</summary>
public static class CeleryWorkerTasks
{
    private static int _recorded;

    /// <summary>How many times <see cref="Record"/> ran in this process.</summary>
    public static int Recorded => _recorded;

    /// <summary>Where <see cref="SlowAdd"/> notes each run (set by the worker program from its Redis).</summary>
    public static IDatabase? Runs { get; set; }

    [Task("proj.tasks.add")]
    public static int Add(int x, int y) => x + y;

    [Task("proj.tasks.greet")]
    public static string Greet(string name, string greeting) => $"{greeting}, {name}!";

    [Task("proj.tasks.fail")]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    /// <summary>Fails its first run: the second (Celery retries=1) returns the attempt it ran as.</summary>
    [Task("proj.tasks.flaky", MaxRetries = 2, RetryDelay = "00:00:00.200")]
    public static int Flaky(TaskContext context) => context.Attempt == 1 ? throw new TimeoutException("first run fails") : context.Attempt;

    [Task("proj.tasks.record")]
    public static int Record() => Interlocked.Increment(ref _recorded);

    /// <summary>Sleeps, then notes which worker ran it; both languages implement it for the shared-queue test.</summary>
    [Task("proj.tasks.slowadd")]
    public static async Task<int> SlowAdd(int x, int y, CancellationToken cancellationToken)
    {
        await Task.Delay(150, cancellationToken);
        if (Runs is { } runs)
        {
            await runs.ListRightPushAsync("runs:dotnet", $"{x}");
        }

        return x + y;
    }
}

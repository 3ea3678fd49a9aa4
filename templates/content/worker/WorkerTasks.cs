using TypedTasks;

namespace TypedTasksWorker;

/// <summary>
/// The tasks this worker runs. The TypedTasks generator gives each [Task] method a typed proxy in
/// this project's root namespace: Tasks.Greet.EnqueueAsync("Ada").
/// </summary>
public static class WorkerTasks
{
    [Task(MaxRetries = 3, Timeout = "00:00:30")]
    public static async Task<string> Greet(string name, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(100), ct);   // the real work goes here
        return $"Hello, {name}!";
    }
}

using TypedTasks;

namespace TypedTasksWorker;

/// <summary>Enqueues a task every five seconds and logs its result.</summary>
public sealed class Producer(ILogger<Producer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var run = 1; !stoppingToken.IsCancellationRequested; run++)
        {
            var task = await Tasks.Greet.EnqueueAsync($"run {run}", stoppingToken);
            try
            {
                var greeting = await task.GetAsync(TimeSpan.FromSeconds(30), stoppingToken);
                logger.LogInformation("Task {Id} completed: {Greeting}", task.Id, greeting);
            }
            catch (Exception e) when (e is TaskFailedException or TimeoutException)
            {
                // A failed or late task is the worker's news to report, not a reason to stop it.
                logger.LogError("Task {Id} did not complete: {Reason}", task.Id, e.Message);
            }

            await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
        }
    }
}

using TypedTasks;
using TypedTasks.Transport;

namespace TypedTasksWorker;

/// <summary>Enqueues a task every five seconds and logs its result.</summary>
public sealed class Producer(ILogger<Producer> logger) : BackgroundService
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var run = 1; !stoppingToken.IsCancellationRequested; run++)
        {
            await SendAndReportAsync($"run {run}", stoppingToken);
            await Task.Delay(Pause, stoppingToken);
        }
    }

    private async Task SendAndReportAsync(string name, CancellationToken stoppingToken)
    {
        AsyncResult<string> task;
        try
        {
            task = await Tasks.Greet.EnqueueAsync(name, stoppingToken);
        }
        catch (TransportException e)
        {
            // Redis is down or out of reach, and its message says what to check. The next run
            // tries again: the host keeps running until Redis is back.
            logger.LogWarning("Task not sent: {Reason} Trying again in {Pause}.", e.Message, Pause);
            return;
        }

        try
        {
            var greeting = await task.GetAsync(TimeSpan.FromSeconds(30), stoppingToken);
            logger.LogInformation("Task {Id} completed: {Greeting}", task.Id, greeting);
        }
        catch (Exception e) when (e is TaskFailedException or TimeoutException or TransportException or TaskNotFoundException)
        {
            // A failed, late or lost task (Redis restarted without its data), or a result out of
            // reach, is news to report, not a reason to stop the worker.
            logger.LogError("Task {Id} did not complete: {Reason}", task.Id, e.Message);
        }
    }
}

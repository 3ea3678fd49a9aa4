using System;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Worker;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Worker started: {Concurrency} concurrent task(s) on queue(s) {Queues}; {TaskCount} task(s) known")]
    public static partial void WorkerStarted(ILogger logger, int concurrency, string queues, int taskCount);

    [LoggerMessage(2, LogLevel.Information, "Worker stopping: waiting up to {Timeout} for {Running} running task(s)")]
    public static partial void WorkerStopping(ILogger logger, TimeSpan timeout, int running);

    [LoggerMessage(3, LogLevel.Warning, "Worker shutdown timeout passed: canceling running tasks, which go back to their queue")]
    public static partial void ShutdownTimedOut(ILogger logger);

    [LoggerMessage(4, LogLevel.Error, "Message in queue {Queue} set aside in its dead-letter list: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string queue, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Task {TaskName} {TaskId} succeeded in {Elapsed} ms")]
    public static partial void Succeeded(ILogger logger, string taskName, string taskId, double elapsed);

    [LoggerMessage(6, LogLevel.Warning, "Task {TaskName} {TaskId} failed on run {Run}; retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, Exception error, string taskName, string taskId, int run, TimeSpan delay);

    [LoggerMessage(7, LogLevel.Error, "Task {TaskName} {TaskId} failed after {Runs} run(s)")]
    public static partial void Failed(ILogger logger, Exception error, string taskName, string taskId, int runs);

    [LoggerMessage(8, LogLevel.Information, "Task {TaskName} {TaskId} expired at {ExpiresAt} before it started")]
    public static partial void Expired(ILogger logger, string taskName, string taskId, DateTimeOffset expiresAt);

    [LoggerMessage(9, LogLevel.Information, "Task {TaskName} {TaskId} is already {State}; not run again")]
    public static partial void AlreadyFinal(ILogger logger, string taskName, string taskId, TaskState state);

    [LoggerMessage(10, LogLevel.Error, "Fetching from the broker failed; trying again in {Delay}")]
    public static partial void FetchFailed(ILogger logger, Exception error, TimeSpan delay);

    [LoggerMessage(40, LogLevel.Warning, "Fetching from the broker failed: {Reason} Trying again in {Delay}")]
    public static partial void FetchUnreachable(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(41, LogLevel.Warning, "Fetching from the broker failed again ({Failures} tries); trying again in {Delay}")]
    public static partial void FetchStillUnreachable(ILogger logger, int failures, TimeSpan delay);

    [LoggerMessage(42, LogLevel.Information, "Fetching from the broker works again after {Failures} failed tries")]
    public static partial void FetchWorksAgain(ILogger logger, int failures);

    [LoggerMessage(11, LogLevel.Warning, "Task {TaskName} {TaskId} was interrupted by shutdown and goes back to its queue")]
    public static partial void Interrupted(ILogger logger, string taskName, string taskId);

    [LoggerMessage(12, LogLevel.Error, "Running a message failed; it stays with the broker and will be delivered again")]
    public static partial void RunFailed(ILogger logger, Exception error);

    [LoggerMessage(13, LogLevel.Warning, "The broker or backend is unreachable; recording the task's outcome again in {Delay}")]
    public static partial void PersistRetrying(ILogger logger, Exception error, TimeSpan delay);

    [LoggerMessage(14, LogLevel.Information, "Task {TaskName} {TaskId} was canceled while it ran")]
    public static partial void Canceled(ILogger logger, string taskName, string taskId);
}

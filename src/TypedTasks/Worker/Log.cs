using System;
using Microsoft.Extensions.Logging;
using TypedTasks.Store;

namespace TypedTasks.Worker;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Worker started: {Concurrency} concurrent task(s) on queue(s) {Queues}; {TaskCount} task(s) known")]
    public static partial void WorkerStarted(ILogger logger, int concurrency, string queues, int taskCount);

    [LoggerMessage(2, LogLevel.Information, "Worker stopping: waiting up to {Timeout} for {Running} running task(s)")]
    public static partial void WorkerStopping(ILogger logger, TimeSpan timeout, int running);

    [LoggerMessage(3, LogLevel.Warning, "Worker shutdown timeout passed: canceling {Count} running task(s), which go back to their queue")]
    public static partial void ShutdownTimedOut(ILogger logger, int count);

    [LoggerMessage(4, LogLevel.Error, "Task {TaskId} of queue {Queue} cannot run and ended Failed, kept in the queue's failed tasks: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string queue, string taskId, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Task {TaskName} {TaskId} succeeded in {Elapsed} ms")]
    public static partial void Succeeded(ILogger logger, string taskName, string taskId, double elapsed);

    [LoggerMessage(6, LogLevel.Warning, "Task {TaskName} {TaskId} failed on attempt {Attempt}; retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, Exception error, string taskName, string taskId, int attempt, TimeSpan delay);

    [LoggerMessage(7, LogLevel.Error, "Task {TaskName} {TaskId} failed for good on attempt {Attempt}")]
    public static partial void Failed(ILogger logger, Exception error, string taskName, string taskId, int attempt);

    [LoggerMessage(8, LogLevel.Information, "Task {TaskName} {TaskId} expired at {ExpiresAt} before it started")]
    public static partial void Expired(ILogger logger, string taskName, string taskId, DateTimeOffset expiresAt);

    [LoggerMessage(9, LogLevel.Information, "Task {TaskName} {TaskId} is already {State}; not run again")]
    public static partial void AlreadyFinal(ILogger logger, string taskName, string taskId, TaskState state);

    [LoggerMessage(10, LogLevel.Error, "Fetching from the store failed; trying again in {Delay}")]
    public static partial void FetchFailed(ILogger logger, Exception error, TimeSpan delay);




    [LoggerMessage(11, LogLevel.Warning, "Task {TaskName} {TaskId} was interrupted by shutdown and goes back to its queue")]
    public static partial void Interrupted(ILogger logger, string taskName, string taskId);

    [LoggerMessage(12, LogLevel.Error, "Running a task failed; its lease stays with the store and the task runs again once it expires")]
    public static partial void RunFailed(ILogger logger, Exception error);




    [LoggerMessage(14, LogLevel.Information, "Task {TaskName} {TaskId} was canceled while it ran")]
    public static partial void Canceled(ILogger logger, string taskName, string taskId);

    // 30 and up: the code of a run that outlives the run (ids apart from the rest, which grow from 14).
    [LoggerMessage(30, LogLevel.Warning, "Task {TaskName} {TaskId} ended, but its synchronous code still holds its thread and cannot be interrupted: it keeps its worker slot until it returns, and what it returns is discarded")]
    public static partial void HoldingThread(ILogger logger, string taskName, string taskId);

    [LoggerMessage(31, LogLevel.Information, "Task {TaskName} {TaskId}: its code returned {Elapsed} after it started, after its run had ended; its outcome was discarded and its worker slot is free again")]
    public static partial void ReturnedLate(ILogger logger, string taskName, string taskId, TimeSpan elapsed);

    [LoggerMessage(32, LogLevel.Warning, "Task {TaskName} {TaskId} was abandoned as the worker stopped: its code, started {Elapsed} ago, ignored its cancellation and had not returned; what it returns is discarded")]
    public static partial void Abandoned(ILogger logger, string taskName, string taskId, TimeSpan elapsed);

    [LoggerMessage(34, LogLevel.Warning, "Worker shutdown timeout passed: no longer waiting for {Count} run(s) that already ended (their outcome is recorded) but whose code still holds its worker slot")]
    public static partial void ShutdownTimedOutEnded(ILogger logger, int count);

    [LoggerMessage(33, LogLevel.Warning, "Disposing the services of task {TaskName} {TaskId} failed after its code returned late")]
    public static partial void LateReleaseFailed(ILogger logger, Exception error, string taskName, string taskId);

    [LoggerMessage(43, LogLevel.Warning, "Task {TaskId} of queue {Queue}: its lease had expired and the task was recovered for another run; this run's outcome ({Outcome}) is dropped")]
    public static partial void LeaseLost(ILogger logger, string taskId, string queue, TaskCompletionKind outcome);


    [LoggerMessage(45, LogLevel.Error, "The worker's {Duty} failed; trying again in {Delay}")]
    public static partial void DutyBroken(ILogger logger, Exception error, string duty, TimeSpan delay);

    [LoggerMessage(46, LogLevel.Information, "{Count} task(s) of queue(s) {Queues} whose worker stopped renewing its lease went back to their queue")]
    public static partial void Recovered(ILogger logger, int count, string queues);

    [LoggerMessage(47, LogLevel.Warning, "The task store cannot be reached: {Reason} The worker's parts keep trying ({Part} again in {Delay}); no task is lost meanwhile")]
    public static partial void StoreUnreachable(ILogger logger, string reason, string part, TimeSpan delay);

    [LoggerMessage(48, LogLevel.Debug, "The task store still cannot be reached ({Part}, {Failures} failed calls so far); trying again in {Delay}")]
    public static partial void StoreStillUnreachable(ILogger logger, string part, int failures, TimeSpan delay);

    [LoggerMessage(49, LogLevel.Information, "The task store is reachable again, after {Duration} and {Failures} failed calls")]
    public static partial void StoreReachableAgain(ILogger logger, TimeSpan duration, int failures);

    [LoggerMessage(60, LogLevel.Error, "Schedule '{Schedule}' cannot be fired by this worker: {Problem}")]
    public static partial void ScheduleBroken(ILogger logger, string schedule, string problem);

    [LoggerMessage(61, LogLevel.Debug, "Schedule '{Schedule}' fired for {FireTime:O} as task {TaskId}")]
    public static partial void ScheduleFired(ILogger logger, string schedule, DateTimeOffset fireTime, string taskId);

    [LoggerMessage(62, LogLevel.Information, "Schedule '{Schedule}' skipped its fire time {FireTime:O}: the run of its previous fire time ({TaskId}) has not ended (OverlapPolicy.Skip)")]
    public static partial void ScheduleOverlapSkipped(ILogger logger, string schedule, DateTimeOffset fireTime, string taskId);

    [LoggerMessage(63, LogLevel.Warning, "Schedule '{Schedule}' missed fire times from {From:O} to {Until:O} (no worker fired them in time); MisfirePolicy.{Policy} decides which run")]
    public static partial void ScheduleMissed(ILogger logger, string schedule, DateTimeOffset from, DateTimeOffset until, MisfirePolicy policy);

    [LoggerMessage(64, LogLevel.Error, "The [Periodic] schedule of task {TaskName} cannot be stored: {Problem}")]
    public static partial void PeriodicInvalid(ILogger logger, string taskName, string problem);

    [LoggerMessage(65, LogLevel.Information, "Removed the schedule of task {TaskName}: the task is no longer [Periodic] (its runs already enqueued stay)")]
    public static partial void PeriodicRemoved(ILogger logger, string taskName);
    [LoggerMessage(50, LogLevel.Debug, "The progress of task {Id} could not be stored; its next report tries again")]
    public static partial void ProgressNotStored(ILogger logger, Exception exception, string id);

    [LoggerMessage(51, LogLevel.Warning, "The worker's last task metrics could not be stored as it stopped; they are lost")]
    public static partial void MetricsNotFlushed(ILogger logger, Exception exception);
}

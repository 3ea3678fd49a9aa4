using System;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Celery.Worker;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Celery worker consuming {Queues} with concurrency {Concurrency}")]
    public static partial void Consuming(ILogger logger, string queues, int concurrency);

    [LoggerMessage(2, LogLevel.Warning, "Refused a message from queue {Queue} (task {TaskId}) and pushed it to {DeadLetters}: {Reason}")]
    public static partial void Refused(ILogger logger, string queue, string? taskId, string deadLetters, string reason);

    [LoggerMessage(3, LogLevel.Error, "Celery task {TaskName} ({TaskId}) failed")]
    public static partial void Failed(ILogger logger, Exception error, string taskName, string taskId);

    [LoggerMessage(4, LogLevel.Warning, "Celery task {TaskName} ({TaskId}) failed and is retried at {Eta}")]
    public static partial void Retrying(ILogger logger, Exception error, string taskName, string taskId, DateTimeOffset eta);

    [LoggerMessage(5, LogLevel.Warning, "Redis failed under the Celery worker; the message stays unacknowledged and comes back after the visibility timeout")]
    public static partial void RedisFailed(ILogger logger, Exception error);

    [LoggerMessage(6, LogLevel.Information, "Put back {Count} message(s) left unacknowledged past the visibility timeout")]
    public static partial void Restored(ILogger logger, int count);

    [LoggerMessage(7, LogLevel.Warning, "Ignored a pidbox broadcast that is not a kombu JSON envelope")]
    public static partial void BadBroadcast(ILogger logger, Exception error);
}

using System;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Redis;

internal static partial class RedisLog
{
    [LoggerMessage(101, LogLevel.Warning, "Putting a message back into queue {Queue} failed; it returns once this worker's heartbeat stops")]
    public static partial void RequeueFailed(ILogger logger, Exception error, string queue);

    [LoggerMessage(102, LogLevel.Warning, "Renewing the heartbeat failed")]
    public static partial void HeartbeatFailed(ILogger logger, Exception error);

    [LoggerMessage(103, LogLevel.Warning, "Returned {Count} in-flight message(s) of dead worker {WorkerId} to queue {Queue}")]
    public static partial void Recovered(ILogger logger, long count, string workerId, string queue);

    [LoggerMessage(104, LogLevel.Warning, "Looking for dead workers failed")]
    public static partial void RecoverFailed(ILogger logger, Exception error);

    [LoggerMessage(105, LogLevel.Warning, "Promoting due scheduled messages failed")]
    public static partial void PromoteFailed(ILogger logger, Exception error);

    [LoggerMessage(106, LogLevel.Warning, "Returned an in-flight message that no run held to queue {Queue} (its fetch reply was lost)")]
    public static partial void Orphaned(ILogger logger, string queue);

    [LoggerMessage(107, LogLevel.Warning, "Sweeping this worker's in-flight messages failed")]
    public static partial void SweepFailed(ILogger logger, Exception error);
}

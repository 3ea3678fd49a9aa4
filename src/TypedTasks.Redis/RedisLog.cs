using System;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Redis;

internal static partial class RedisLog
{
    [LoggerMessage(101, LogLevel.Warning, "Putting a message back into queue {Queue} failed ({Reason}); it returns once this worker's heartbeat stops")]
    public static partial void RequeueFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(102, LogLevel.Warning, "The last heartbeat at shutdown failed ({Reason}); this worker's in-flight messages return to their queue after the worker timeout")]
    public static partial void LastHeartbeatFailed(ILogger logger, string reason);

    [LoggerMessage(103, LogLevel.Warning, "Returned {Count} in-flight message(s) of dead worker {WorkerId} to queue {Queue}")]
    public static partial void Recovered(ILogger logger, long count, string workerId, string queue);

    // A connection failure is a line, never a stack trace: the cause is outside the process.
    [LoggerMessage(104, LogLevel.Warning, "Redis at {Endpoint} cannot be reached ({Reason}); the {Loop} tries again in {Delay}: {Advice}")]
    public static partial void Unreachable(ILogger logger, string endpoint, string reason, string loop, TimeSpan delay, string advice);

    [LoggerMessage(105, LogLevel.Warning, "Redis at {Endpoint} still cannot be reached ({Reason}); the {Loop} tries again in {Delay}")]
    public static partial void StillUnreachable(ILogger logger, string endpoint, string reason, string loop, TimeSpan delay);

    [LoggerMessage(106, LogLevel.Warning, "Returned an in-flight message that no run held to queue {Queue} (its fetch reply was lost)")]
    public static partial void Orphaned(ILogger logger, string queue);

    [LoggerMessage(107, LogLevel.Information, "Redis at {Endpoint} is reachable again (it was not for {Downtime})")]
    public static partial void ReachableAgain(ILogger logger, string endpoint, TimeSpan downtime);
}

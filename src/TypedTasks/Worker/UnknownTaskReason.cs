namespace TypedTasks.Worker;

/// <summary>
/// Why a worker set aside a message for a task it does not know. The usual cause is a second
/// application on the same Redis and queue, so the reason names everything needed to find it and
/// says how to keep the applications apart.
/// </summary>
internal static class UnknownTaskReason
{
    public static string For(string taskName, string queue)
        => $"unknown task '{taskName}' in queue '{queue}': worker {WorkerIdentity.Name} (host {WorkerIdentity.Host}, pid {WorkerIdentity.Pid}) "
            + "has no task of that name registered. If another application shares this Redis, give each application its own key prefix "
            + "(RedisTransportOptions.KeyPrefix, TypedTasks:RedisTransport:KeyPrefix) or its own queues ([Task(Queue = ...)] and "
            + "TypedTasks:Worker:Queues); if the task was renamed or removed, deploy the worker that has it.";
}

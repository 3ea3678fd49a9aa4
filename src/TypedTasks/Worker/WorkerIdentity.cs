using System;

namespace TypedTasks.Worker;

/// <summary>How this process names itself as a worker, in heartbeats, stored states and dead-letter reasons.</summary>
internal static class WorkerIdentity
{
    public static string Host { get; } = Environment.MachineName;

    public static int Pid { get; } = Environment.ProcessId;

    /// <summary><c>host:pid</c>, the form that tools show and search for.</summary>
    public static string Name { get; } = $"{Host}:{Pid}";
}

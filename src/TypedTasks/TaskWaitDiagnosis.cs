using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Transport;

namespace TypedTasks;

/// <summary>
/// Says why a wait for a task timed out: the id was never seen, or the task is pending with no
/// live worker for its queue (or none that knows it), or pending behind other messages, or
/// running and not finished. It asks the store a few questions, so it
/// runs only once a wait has already timed out, never on the way to a result.
/// </summary>
internal static class TaskWaitDiagnosis
{
    /// <summary>The longest the questions may take: a timed-out caller is not kept much longer.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    /// <summary>The message of the <see cref="TimeoutException"/> for a wait of <paramref name="waited"/> on task <paramref name="id"/>.</summary>
    public static async Task<string> DescribeAsync(TaskClient client, string id, string? taskName, TimeSpan waited)
    {
        var head = $"Task {(taskName is null ? string.Empty : taskName + " ")}{id} did not finish within {waited}: ";
        try
        {
            return head + await ExplainAsync(client, id).WaitAsync(Budget).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TransportException or TimeoutException or ObjectDisposedException or System.IO.InvalidDataException)
        {
            return head + $"the store could not be asked why ({ex.Message}).";
        }
    }

    private static async Task<string> ExplainAsync(TaskClient client, string id)
    {
        var info = await client.GetInfoAsync(id).ConfigureAwait(false);
        if (info is null)
        {
            return "no state is stored for this id. It was never enqueued through this store (check that producer and caller use the same Redis and key prefix), "
                + "or its state expired after the result TTL (TypedTasks:ResultTtl).";
        }

        var state = info.State;
        if (state.IsFinal())
        {
            return $"it reached {state} just as the wait ended; ask for its result again.";
        }

        var queue = info.Queue;

        // A workflow step not made yet reads as Pending while its join waits: say what it waits for.
        if (state == TaskState.Pending && queue is not null && client.Store is Store.IWorkflowStore workflows && id.LastIndexOf('@') is var at and > 0
            && await workflows.GetJoinAsync(queue, id[..at]).ConfigureAwait(false) is { State: "open" } join)
        {
            return $"it is a workflow step not made yet: it is made when every member it waits for has ended, and {join.Arrived} of {join.Members} have "
                + $"(ITaskInspector.GetWorkflowAsync or 'typedtasks workflow {id}' shows each stage and where the workflow is).";
        }

        var inQueue = queue is null ? string.Empty : $" in queue '{queue}'";
        var where = state switch
        {
            TaskState.Scheduled => $"it is scheduled{inQueue} (its delay or ETA has not passed)",
            TaskState.Retrying => $"its run {info.Attempt} failed ({info.Error?.Type}: {info.Error?.Message}) and it waits for its retry{inQueue}",
            TaskState.Started => $"it is running: run {info.Attempt} started on worker {info.Worker ?? "(not recorded)"} at {info.UpdatedAt.ToString("u", CultureInfo.InvariantCulture)}{inQueue} and has not finished",
            _ => $"it is pending{inQueue}",
        };
        if (queue is null)
        {
            return where + ".";
        }

        var workers = (await client.Store.GetWorkersAsync().ConfigureAwait(false)).Where(w => w.Queues.Contains(queue, StringComparer.Ordinal)).ToList();
        if (state == TaskState.Started)
        {
            return info.Worker is { } worker && !workers.Any(w => string.Equals($"{w.Host}:{w.Pid}", worker, StringComparison.Ordinal))
                ? $"{where}. That worker has no live heartbeat in queue '{queue}' any more: the task goes back to the queue once its lease expires, and runs again on a live worker."
                : where + ".";
        }

        if (workers.Count == 0)
        {
            return $"{where}, and no live worker serves that queue. Start a worker with '{queue}' among its queues (TypedTasks:Worker:Queues) on the same Redis and key prefix.";
        }

        if (!workers.Any(w => w.MayRun(info.TaskName)))
        {
            return $"{where}, and none of the {Count(workers.Count, "live worker")} of that queue ({string.Join(", ", workers)}) knows task {info.TaskName}: "
                + "it will end Failed, in the queue's failed (dead) tasks. Deploy a worker that has the task, or give each application that shares this Redis its own key prefix or queues.";
        }

        var counts = await client.Store.CountAsync(queue).ConfigureAwait(false);
        // With prefetch a worker starts tasks a little before it runs them: those are ahead too.
        var ahead = $"{Count(counts.Pending, "task")} {(counts.Pending == 1 ? "is" : "are")} pending and {counts.Started} started by workers";
        return state == TaskState.Pending
            ? $"{where}, where {ahead}, with {Count(workers.Count, "live worker")} serving the queue: it waits its turn. Wait longer, or add workers or concurrency."
            : $"{where}; {Count(workers.Count, "live worker")} serving the queue, where {ahead}.";
    }

    private static string Count(long n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Inspection;

/// <summary>
/// What tools (the typedtasks command, a dashboard) read and do with the tasks of a store, the
/// same on every store. Reads are one page or one task at a time; operations on many tasks go to
/// the store in batches of <see cref="InspectorModel.BatchSize"/>, so no call holds the store for long.
/// </summary>
/// <remarks>
/// Arguments are checked before anything is read or changed: a name that is not a queue name
/// (<see cref="InspectorModel.QueueNameProblem"/>), an empty id or a state that is not one throws
/// <see cref="ArgumentException"/>; a page outside its bounds throws
/// <see cref="ArgumentOutOfRangeException"/>. A store that cannot be reached throws
/// <see cref="Transport.TransportException"/>; one that can tell a task existed and its data was
/// lost (a Redis that restarted empty) throws <see cref="TaskNotFoundException"/> for it.
/// </remarks>
public interface ITaskInspector
{
    /// <summary>Every queue the store knows (a task was sent to it, or a live worker serves it), in name order, with its counts and workers.</summary>
    Task<IReadOnlyList<QueueSummary>> GetQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>One queue with its counts and workers; null when the store does not know it.</summary>
    Task<QueueSummary?> GetQueueAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The live workers, in id order.</summary>
    Task<IReadOnlyList<WorkerSummary>> GetWorkersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the tasks of <paramref name="queue"/> in <paramref name="state"/>, in the store's
    /// order for that state: pending in the order they will run, scheduled and retrying by due
    /// time, running by lease end, final ones newest first. <paramref name="count"/> is 1 to
    /// <see cref="InspectorModel.MaxPageSize"/>.
    /// </summary>
    Task<IReadOnlyList<TaskSummary>> GetTasksAsync(string queue, TaskState state, long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// The rate and concurrency limits of <paramref name="queue"/> in use (a task of them runs,
    /// started in the current window, or waits for them), in key order, at most
    /// <see cref="InspectorModel.MaxPageSize"/>, with what each holds back.
    /// </summary>
    Task<IReadOnlyList<LimitSummary>> GetLimitsAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the tasks the limit <paramref name="key"/> of <paramref name="kind"/> holds back in
    /// <paramref name="queue"/>, in the order it will let them start. <paramref name="count"/> is 1
    /// to <see cref="InspectorModel.MaxPageSize"/>.
    /// </summary>
    Task<IReadOnlyList<TaskSummary>> GetHeldTasksAsync(string queue, string key, LimitKind kind, long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>The unique locks of <paramref name="queue"/> that have not lapsed, soonest to lapse first, at most <see cref="InspectorModel.MaxPageSize"/>.</summary>
    Task<IReadOnlyList<LockSummary>> GetLocksAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>One task with its arguments, result or error; null when the store holds nothing under <paramref name="id"/>.</summary>
    Task<TaskDetails?> GetTaskAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a failed task again, as a new task with a fresh retry budget. False when it is not
    /// stored, not failed, or has no task to run (a group's own result: retry its failed members; a
    /// record kept without its message).
    /// </summary>
    Task<bool> RetryAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs every failed task of <paramref name="queue"/> again, each with a fresh retry budget,
    /// and returns how many went back (a group's own result, which no task runs, and a record kept
    /// without its message stay failed).
    /// <paramref name="progress"/> hears the running total after
    /// each batch. At most as many tasks as were failed when the call began are looked at, so a
    /// task that fails again while this runs waits for the next call.
    /// </summary>
    Task<int> RetryAllFailedAsync(string queue, IProgress<int>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends a failed, canceled, expired, scheduled or retrying task to the tail of its queue now,
    /// with a fresh retry budget. False when it is not stored, is pending, running or succeeded, or
    /// its message is gone.
    /// </summary>
    Task<bool> RequeueAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deletes a task that is not running, with its record. False when it is not stored or is running.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every task of <paramref name="queue"/> in <paramref name="state"/> (not
    /// <see cref="TaskState.Started"/>: a running task is canceled, not deleted) and returns how
    /// many. <paramref name="progress"/> hears the running total after each batch. At most as many
    /// tasks as the state held when the call began are looked at.
    /// </summary>
    Task<int> DeleteAllAsync(string queue, TaskState state, IProgress<int>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a task: a waiting one never runs, a running one has its token signalled. False when
    /// it had already ended or is not stored.
    /// </summary>
    Task<bool> CancelAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the pending tasks of <paramref name="queue"/>, oldest first, and returns how many; they
    /// never run. Scheduled and retrying tasks stay (<see cref="DeleteAllAsync"/> removes them).
    /// <paramref name="progress"/> hears the running total after each batch. At most as many tasks
    /// as were pending when the call began are deleted, so producers still sending do not keep it going.
    /// </summary>
    Task<int> PurgeAsync(string queue, IProgress<int>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every schedule of the store, in name order, with its next fire times, last run and that
    /// run's state (<see cref="Scheduling.ITaskSchedules.ListAsync"/>). Throws
    /// <see cref="NotSupportedException"/> when the store keeps no schedules.
    /// </summary>
    Task<IReadOnlyList<Scheduling.ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken = default);

    /// <summary>Asks for one run of the schedule now (<see cref="Scheduling.ITaskSchedules.TriggerAsync"/>). False when there is no schedule of that name.</summary>
    Task<bool> TriggerScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Pauses the schedule (<see cref="Scheduling.ITaskSchedules.PauseAsync"/>). False when there is no schedule of that name.</summary>
    Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Resumes the schedule from its next fire time after now (<see cref="Scheduling.ITaskSchedules.ResumeAsync"/>). False when there is no schedule of that name.</summary>
    Task<bool> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// The task metrics of the last <paramref name="window"/>: by the minute up to six hours, by ten
    /// minutes up to seven days (<see cref="Metrics.MetricsRetention"/>); one entry per task and
    /// interval that had runs, oldest first.
    /// </summary>
    Task<IReadOnlyList<Metrics.TaskMetrics>> GetMetricsAsync(TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>
    /// The workflow up to a step (the handle a workflow's <c>EnqueueAsync</c> returned, or any step
    /// made after the first calls, <c>w.k@queue</c> with k ≥ 1): its stages from the first to that
    /// step, each with its members and how far it got, and where it stopped. Null when the id is no
    /// such step the store keeps (a member or a first call included: see <see cref="FindWorkflowAsync"/>),
    /// or the store keeps no workflows.
    /// </summary>
    /// <param name="id">A workflow step's id.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    Task<WorkflowDetails?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The whole workflow of any of its tasks: a step, a member of a group, one of the first calls,
    /// or the workflow id alone (then every known queue is looked at). Its stages from the first to
    /// the step it ends with, whichever task was asked about. Null when the id is no task of a
    /// workflow the store keeps.
    /// </summary>
    /// <param name="id">A task id of a workflow (<c>w.2@queue</c>, <c>w.0.3@queue</c>, <c>w.0@queue</c>) or a workflow id (<c>w</c>).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    Task<WorkflowDetails?> FindWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return WorkflowFinder.FindAsync(this, id, cancellationToken);
    }
}

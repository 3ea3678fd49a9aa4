using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Serialization;
using TypedTasks.Store;

namespace TypedTasks.InMemory;

/// <summary>The workflow side of the in-memory store: the same rules as the Redis store's joins (docs/workflows.md), under the one lock.</summary>
public sealed partial class InMemoryTaskStore : IWorkflowStore
{
    private readonly Dictionary<string, JoinRecord> _joins = new(StringComparer.Ordinal);
    private readonly Queue<(JoinRecord Join, DateTimeOffset ExpiresAt)> _joinExpiries = new();

    /// <inheritdoc/>
    /// <remarks>Nothing to do: a send into this store cannot stop part way without its process, and so the store, stopping too (a canceled send finishes once it has begun writing).</remarks>
    public ValueTask SealJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(joins);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask CreateJoinsAsync(IReadOnlyList<WorkflowJoin> joins, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(joins);
        foreach (var join in joins)
        {
            ArgumentNullException.ThrowIfNull(join);
            join.Check();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var woken = new List<TaskCompletionSource>(1);
        lock (_gate)
        {
            var now = BeginLocked();
            foreach (var join in joins)
            {
                var key = JoinKey(join.Queue, join.Key);
                if (_joins.ContainsKey(key))
                {
                    continue;
                }

                var record = new JoinRecord(join);
                _joins.Add(key, record);
                QueueLocked(join.Queue).Enqueued = true;
                if (join.Members == 0)
                {
                    JoinDoneLocked(record, now, woken);
                }
            }
        }

        Wake(woken);
        return default;
    }

    /// <inheritdoc/>
    /// <remarks>Every delivery happens under the lock with the end of its member: none is ever left over.</remarks>
    public ValueTask<int> DeliverLeftoversAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queues);
        return new(0);
    }

    /// <inheritdoc/>
    public ValueTask<JoinInfo?> GetJoinAsync(string queue, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            BeginLocked();
            if (!_joins.TryGetValue(JoinKey(queue, key), out var join))
            {
                return new((JoinInfo?)null);
            }

            var outcomes = new Dictionary<int, TaskState>();
            for (var i = 0; i < join.States.Length; i++)
            {
                if (join.States[i] != TaskState.Pending)
                {
                    outcomes[i] = join.States[i];
                }
            }

            return new(new JoinInfo(join.Join.Key, join.Join.WorkflowId, join.Join.Members, join.Arrived, join.State, outcomes, join.Join.MemberIds)
            {
                WorkflowHandle = join.Join.WorkflowHandle,
            });
        }
    }

    private static string JoinKey(string queue, string key) => queue + "\n" + key;

    /// <summary>The open join of a workflow step not made yet (its id is the join's key at its queue), or null.</summary>
    private (TaskInfo Info, Task Made)? WaitingStepLocked(string id, DateTimeOffset now)
    {
        var at = id.LastIndexOf('@');
        if (at < 0 || !_joins.TryGetValue(JoinKey(id[(at + 1)..], id[..at]), out var join) || join.State != "open")
        {
            return null;
        }

        var name = join.Join.Successor.IsEmpty ? join.Join.ResultName : TaskEnvelope.TryReadTaskName(join.Join.Successor) ?? "?";
        var info = new TaskInfo(id, name, TaskState.Pending, 0, now, null, ReadOnlyMemory<byte>.Empty) { Queue = join.Join.Queue };
        return (info, join.Made.Task);
    }

    /// <summary>A task ended: if it is a workflow member, its join hears of it (once per member).</summary>
    private void EndedLocked(TaskRecord record, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        if (record.Link is { } link)
        {
            DeliverLocked(link.Queue, link.Join, link.Index, record, now, woken);
        }
    }

    /// <summary>Member <paramref name="i"/> of a join ended as <paramref name="record"/> did: counted once, and passed on to the joins it relays to.</summary>
    private void DeliverLocked(string queue, string key, int i, TaskRecord record, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        if (!_joins.TryGetValue(JoinKey(queue, key), out var join) || i < 0 || i >= join.States.Length || join.States[i] != TaskState.Pending)
        {
            return;
        }

        // A step that could not run because a member failed or expired passes that state on.
        var state = record.Via ?? record.State;
        join.States[i] = state;
        // A task without a result stores none: its place in the results is a nil.
        join.Results[i] = state == TaskState.Succeeded ? record.Result is { Length: > 0 } result ? result : [0xc0] : null;
        join.Errors[i] = state == TaskState.Succeeded ? null : record.Error;
        join.Arrived++;
        foreach (var relay in join.Join.Relays ?? [])
        {
            var at = relay.LastIndexOf('@');
            DeliverLocked(relay[(at + 1)..], relay[..at], i, record, now, woken);
        }

        if (join.State != "open")
        {
            return;
        }

        if (state != TaskState.Succeeded && join.Join.Mode != JoinMode.Settled)
        {
            join.State = "failed";
            var failed = join.Join.Successor.IsEmpty ? TaskState.Failed : TaskState.Canceled;
            SuccessorLocked(join, failed, join.Join.Successor.ToArray(), StepError(record), now, woken, via: state);
            EndJoinLocked(join, now);
            CancelMembersLocked(join, now, woken);
            return;
        }

        if (join.Arrived == join.States.Length)
        {
            JoinDoneLocked(join, now, woken);
        }
    }

    /// <summary>Members not started yet never run; running ones finish, and count as late. A member step not made yet is canceled through its join.</summary>
    private void CancelMembersLocked(JoinRecord join, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        foreach (var memberId in join.Join.MemberIds)
        {
            if (!_records.TryGetValue(memberId, out var member))
            {
                CancelWaitingStepLocked(memberId, now, woken);
            }
            else if (!member.State.IsFinal() && !member.Leased)
            {
                UnindexLocked(member);
                member.State = TaskState.Canceled;
                member.UpdatedAt = now;
                IndexFinalLocked(member, now);
                EndedLocked(member, now, woken);
            }
        }
    }

    /// <summary>
    /// Cancels a workflow step not made yet (its join open): it ends Canceled at once, later steps
    /// through their joins, and the join's members are canceled, so the earlier steps too.
    /// </summary>
    private bool CancelWaitingStepLocked(string id, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        var at = id.LastIndexOf('@');
        if (at < 0 || !_joins.TryGetValue(JoinKey(id[(at + 1)..], id[..at]), out var join) || join.State != "open")
        {
            return false;
        }

        join.State = "failed";
        SuccessorLocked(join, TaskState.Canceled, join.Join.Successor.ToArray(), null, now, woken);
        EndJoinLocked(join, now);
        CancelMembersLocked(join, now, woken);
        return true;
    }

    private void JoinDoneLocked(JoinRecord join, DateTimeOffset now, List<TaskCompletionSource> woken)
    {
        join.State = "done";
        var argument = join.Argument();
        var j = join.Join;
        if (j.Successor.IsEmpty)
        {
            SuccessorLocked(join, TaskState.Succeeded, argument, null, now, woken);
        }
        else if (j.ArgumentAt == WorkflowJoin.NoArgument)
        {
            SuccessorLocked(join, TaskState.Pending, j.Successor.ToArray(), null, now, woken);
        }
        else
        {
            var envelope = new byte[j.Successor.Length - 1 + argument.Length];
            j.Successor.Span[..j.ArgumentAt].CopyTo(envelope);
            argument.CopyTo(envelope.AsSpan(j.ArgumentAt));
            j.Successor.Span[(j.ArgumentAt + 1)..].CopyTo(envelope.AsSpan(j.ArgumentAt + argument.Length));
            SuccessorLocked(join, TaskState.Pending, envelope, null, now, woken);
        }

        EndJoinLocked(join, now);
    }

    /// <summary>An ended join stays readable for the result TTL, as its successor's record does.</summary>
    private void EndJoinLocked(JoinRecord join, DateTimeOffset now)
    {
        join.ExpiresAt = now + _resultTtl;
        _joinExpiries.Enqueue((join, join.ExpiresAt.Value));
    }

    private void DropEndedJoinsLocked(DateTimeOffset now)
    {
        while (_joinExpiries.TryPeek(out var entry) && entry.ExpiresAt <= now)
        {
            _joinExpiries.Dequeue();
            _joins.Remove(JoinKey(entry.Join.Join.Queue, entry.Join.Join.Key));
        }
    }

    /// <summary>Makes a join's successor under its chosen id: Pending to run, or already final.</summary>
    private void SuccessorLocked(JoinRecord join, TaskState state, byte[] body, TaskError? error, DateTimeOffset now, List<TaskCompletionSource> woken, TaskState? via = null)
    {
        var j = join.Join;
        woken.Add(join.Made);
        if (state == TaskState.Pending)
        {
            // A step sent with a delay or an eta waits, scheduled, from its making (or until its eta).
            var due = now + (j.Delay ?? TimeSpan.Zero);
            due = j.NotBefore > due ? j.NotBefore.Value : due;
            AddLocked(j.Queue, new TaskToEnqueue(body, j.Priority, due > now ? due : null, j.Key) { Link = j.SuccessorLink, Limits = j.Limits }, now, woken);
            return;
        }

        var id = j.Key + "@" + j.Queue;
        if (_records.ContainsKey(id))
        {
            return;
        }

        var queue = QueueLocked(j.Queue);
        var name = body.Length == 0 ? j.ResultName : TaskEnvelope.TryReadTaskName(body) ?? "?";
        var record = new TaskRecord(id, queue, ++_nextSequence, j.Priority, name)
        {
            State = state,
            UpdatedAt = now,
            Envelope = state == TaskState.Succeeded ? ReadOnlyMemory<byte>.Empty : body,
            Result = state == TaskState.Succeeded ? body : null,
            Error = error,
            Link = j.SuccessorLink,
            Via = via,
        };
        _records.Add(id, record);
        IndexFinalLocked(record, now);
        EndedLocked(record, now, woken);
    }

    /// <summary>The error of a step that never runs because <paramref name="record"/> did not succeed: its error, naming it.</summary>
    private static TaskError StepError(TaskRecord record)
    {
        if (record.Error is { FailedTaskId: not null } named)
        {
            return named;
        }

        var error = record.State switch
        {
            TaskState.Failed => record.Error ?? new TaskError("Unknown", "The task failed without a recorded error.", null),
            TaskState.Expired => new TaskError("TypedTasks.TaskExpired", $"Task {record.TaskName} ({record.Id}) expired before it ran.", null),
            _ => new TaskError("TypedTasks.TaskCanceled", $"Task {record.TaskName} ({record.Id}) was canceled.", null),
        };
        return error with { FailedTaskId = record.Id, FailedTaskName = record.TaskName };
    }
}

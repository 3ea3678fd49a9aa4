using System;
using System.Collections.Generic;

namespace TypedTasks.Store;

/// <summary>
/// The join of a workflow step: written in the queue its successor runs on before any member is
/// sent; when every member has ended, the store makes the successor under the chosen id
/// <see cref="Key"/> (in <see cref="Queue"/>), with the members' results as its first argument
/// (or as it is written, when its <see cref="ArgumentAt"/> is <see cref="NoArgument"/>).
/// </summary>
/// <param name="Queue">The successor's queue, where the join is kept.</param>
/// <param name="Key">The join's key and the successor's chosen id (unique within the queue).</param>
/// <param name="WorkflowId">The workflow it belongs to.</param>
/// <param name="Members">How many members it waits for (0: its successor is made at once).</param>
/// <param name="Mode">What the successor gets as its first argument.</param>
/// <param name="Successor">
/// The successor's envelope, whose first argument is a MessagePack nil at <paramref name="ArgumentAt"/>
/// (replaced by the results); empty for a group's own result, which is stored Succeeded with no run.
/// </param>
/// <param name="ArgumentAt">
/// The byte offset of the nil in <paramref name="Successor"/>, or <see cref="NoArgument"/> for a
/// successor that takes no result (every argument bound): it is made as it is written.
/// </param>
/// <param name="Priority">The successor's priority.</param>
/// <param name="ResultName">The task name shown for a group's own result (no envelope names it).</param>
/// <param name="SuccessorLink">The successor's own link when it is a member of a later join, else null.</param>
/// <param name="MemberIds">The members' ids, in order: those not started are canceled when a member fails.</param>
public sealed record WorkflowJoin(
    string Queue,
    string Key,
    string WorkflowId,
    int Members,
    JoinMode Mode,
    ReadOnlyMemory<byte> Successor,
    int ArgumentAt,
    int Priority,
    string ResultName,
    WorkflowLink? SuccessorLink,
    IReadOnlyList<string> MemberIds)
{
    /// <summary>The <see cref="ArgumentAt"/> of a successor without an open argument: the members' results are not passed to it.</summary>
    public const int NoArgument = -1;

    /// <summary>
    /// The limits the successor starts under (<see cref="TaskToEnqueue.Limits"/>), computed when the
    /// workflow is sent; a limit keyed by the successor's first argument (the results, unknown then)
    /// is keyed by the value <c>(previous result)</c>. Null: none.
    /// </summary>
    public IReadOnlyList<TaskLimit>? Limits { get; init; }

    /// <summary>How long the successor waits, Scheduled, once made (its step was sent with a delay); null: it is Pending at once.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>The successor is not made Pending before this time (its step was sent with an eta); null: no such bound.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>
    /// The steps (<c>key@queue</c>) whose joins get every outcome this join gets, at the same index: a
    /// fan-out, where several steps each start with the same results. They wait for the same members
    /// (their <see cref="MemberIds"/> name them too) and are stored before any member is sent. Null: none.
    /// </summary>
    public IReadOnlyList<string>? Relays { get; init; }

    /// <summary>
    /// The id of the step the whole workflow ends with (its handle): kept with every join, so that
    /// tools find the whole workflow from any of its steps (<see cref="JoinInfo.WorkflowHandle"/>). Null: not kept.
    /// </summary>
    public string? WorkflowHandle { get; init; }

    /// <summary>Refuses a join the store could not keep, before anything is stored.</summary>
    internal void Check()
    {
        var join = this;
        QueueName.Check(join.Queue);
        if (string.IsNullOrWhiteSpace(join.Key) || join.Key.Length > EnqueueOptions.MaxTaskIdLength)
        {
            throw new ArgumentException($"A join's key is its successor's chosen id: not blank, at most {EnqueueOptions.MaxTaskIdLength} characters. Nothing was stored.", nameof(Key));
        }

        if (join.Members < 0 || join.MemberIds.Count != join.Members)
        {
            throw new ArgumentException($"Join {join.Key} waits for {join.Members} members but names {join.MemberIds.Count}. Nothing was stored.", nameof(Key));
        }

        if (join.Priority is < 0 or > TaskDefaults.MaxPriority)
        {
            throw new ArgumentOutOfRangeException(nameof(Key), join.Priority, $"Join {join.Key} has priority {join.Priority}; a priority is 0 to {TaskDefaults.MaxPriority}. Nothing was stored.");
        }

        if (!join.Successor.IsEmpty && join.ArgumentAt != NoArgument && (join.ArgumentAt < 0 || join.ArgumentAt >= join.Successor.Length || join.Successor.Span[join.ArgumentAt] != 0xc0))
        {
            throw new ArgumentException($"Join {join.Key}: the successor's envelope has no nil at byte {join.ArgumentAt} for its first argument (and {join.ArgumentAt} is not NoArgument, {NoArgument}, for a successor that takes no result). Nothing was stored.", nameof(Key));
        }

        foreach (var relay in join.Relays ?? [])
        {
            var at = relay?.LastIndexOf('@') ?? -1;
            if (at <= 0 || QueueName.Problem(relay![(at + 1)..]) is not null)
            {
                throw new ArgumentException($"Join {join.Key} relays to '{relay}', which is not a step id (key@queue). Nothing was stored.", nameof(Relays));
            }
        }

        if (join.Delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Delay), join.Delay, $"Join {join.Key}: a successor's delay must not be negative. Nothing was stored.");
        }

        if (TaskLimits.Problem(join.Limits) is { } limits)
        {
            throw new ArgumentException($"Join {join.Key}: its successor {limits}. Nothing was stored.", nameof(Key));
        }
    }
}

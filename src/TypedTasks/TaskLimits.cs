using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using MessagePack;
using TypedTasks.Store;

namespace TypedTasks;

/// <summary>
/// The limits one enqueue of a task starts under (<see cref="TaskLimit"/>), from its descriptor's
/// <see cref="TaskDescriptor.MaxConcurrency"/> and <see cref="TaskDescriptor.RateCount"/>: the key
/// is the task's name, or for a limit per key <c>name|param=value</c> with the argument's value as
/// JSON (a value longer than <see cref="MaxValueLength"/> becomes <c>#</c> and a hash of its bytes),
/// so that every producer counts equal values under one key.
/// </summary>
internal static class TaskLimits
{
    /// <summary>The longest argument JSON a key keeps as it is.</summary>
    public const int MaxValueLength = 200;

    /// <summary>The value of a chain step's key argument, which is the previous step's result and unknown when the workflow is sent.</summary>
    public const string PreviousResult = "(previous result)";

    /// <summary>The limits of an enqueue of <paramref name="task"/> with <paramref name="arguments"/> (the concurrency limit first), or null when the task has none.</summary>
    /// <exception cref="ArgumentException">The descriptor's limits cannot be stored (a count below 1, a window out of range, a key too long); nothing is sent.</exception>
    public static IReadOnlyList<TaskLimit>? For<TArgs>(TaskDescriptor task, TArgs arguments)
        where TArgs : struct, ITaskArguments
        => For(task, arguments, firstOpen: false);

    /// <summary>
    /// As <see cref="For{TArgs}(TaskDescriptor, TArgs)"/>; with <paramref name="firstOpen"/> the first
    /// argument is a chain step's open one, keyed as <see cref="PreviousResult"/>.
    /// </summary>
    public static IReadOnlyList<TaskLimit>? For<TArgs>(TaskDescriptor task, TArgs arguments, bool firstOpen)
        where TArgs : struct, ITaskArguments
    {
        var concurrency = task.MaxConcurrency != 0;
        var rate = task.RateCount != 0 || task.RatePer is not null;
        if (!concurrency && !rate)
        {
            return null;
        }

        ReadOnlyMemory<byte>[]? slices = null;
        var limits = new List<TaskLimit>(2);
        if (concurrency)
        {
            limits.Add(new TaskLimit(Key(task, task.ConcurrencyKey, arguments, firstOpen, ref slices), task.MaxConcurrency));
        }

        if (rate)
        {
            var per = task.RatePer ?? throw new ArgumentException($"Task '{task.Name}' has a rate limit of {task.RateCount} with no window (TaskDescriptor.RatePer). Nothing was sent.", nameof(task));
            limits.Add(new TaskLimit(Key(task, task.RateLimitKey, arguments, firstOpen, ref slices), task.RateCount, per));
        }

        if (Problem(limits) is { } problem)
        {
            throw new ArgumentException($"Task '{task.Name}' {problem}. Nothing was sent.", nameof(task));
        }

        return limits;
    }

    /// <summary>Why a store would refuse <paramref name="limits"/> (<see cref="TaskToEnqueue.Limits"/>), or null.</summary>
    public static string? Problem(IReadOnlyList<TaskLimit>? limits) => (default(TaskToEnqueue) with { Limits = limits }).LimitsProblem;

    private static string Key<TArgs>(TaskDescriptor task, int? position, TArgs arguments, bool firstOpen, ref ReadOnlyMemory<byte>[]? slices)
        where TArgs : struct, ITaskArguments
    {
        if (position is not { } i)
        {
            return task.Name;
        }

        slices ??= ArgumentBytes.Of(arguments);
        ArgumentBytes.CheckPosition(task, slices, i, "is limited by");
        var name = task.ParameterNames is { } names && i < names.Count ? names[i] : i.ToString(CultureInfo.InvariantCulture);
        return task.Name + "|" + name + "=" + (firstOpen && i == 0 ? PreviousResult : Value(slices[i]));
    }

    /// <summary>The argument's JSON, or for a long one a hash of its bytes, which stays the same length.</summary>
    private static string Value(ReadOnlyMemory<byte> argument)
    {
        var json = MessagePackSerializer.ConvertToJson(argument, TaskSerializer.Options);
        return json.Length <= MaxValueLength ? json : "#" + Convert.ToHexStringLower(SHA256.HashData(argument.Span).AsSpan(0, 16));
    }
}

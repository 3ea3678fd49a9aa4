using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace TypedTasks.Benchmarks;

/// <summary>
/// Which of the benchmark's <c>Add</c> tasks a run sends (<c>TASK</c>: <c>bench</c>, the default,
/// <c>math</c> or <c>default</c>): the same work under task names of different lengths, since the
/// name's length decides whether a pending record stays inline in its store bucket.
/// </summary>
internal sealed class BenchTask
{
    public static readonly IReadOnlyList<string> Choices = ["bench", "math", "default"];

    private BenchTask(string choice, TaskDescriptor descriptor, Func<TaskClient?, int, int, Task<AsyncResult<int>>> enqueue,
        Func<TaskClient, IEnumerable<(int, int)>, Task<IReadOnlyList<AsyncResult<int>>>> enqueueMany)
    {
        Choice = choice;
        Descriptor = descriptor;
        Enqueue = enqueue;
        EnqueueMany = enqueueMany;
    }

    public string Choice { get; }

    public TaskDescriptor Descriptor { get; }

    /// <summary>One <c>EnqueueAsync</c> through the generated proxy, on the given client or the current one.</summary>
    public Func<TaskClient?, int, int, Task<AsyncResult<int>>> Enqueue { get; }

    /// <summary><c>EnqueueManyAsync</c> through the generated proxy.</summary>
    public Func<TaskClient, IEnumerable<(int, int)>, Task<IReadOnlyList<AsyncResult<int>>>> EnqueueMany { get; }

    public static BenchTask Get(string? choice) => (choice ?? "bench") switch
    {
        "bench" => new("bench", Tasks.Add.Descriptor,
            (c, x, y) => c is null ? Tasks.Add.EnqueueAsync(x, y) : Tasks.Add.WithClient(c).EnqueueAsync(x, y),
            async (c, a) => await Tasks.Add.WithClient(c).EnqueueManyAsync(a)),
        "math" => new("math", Tasks.MathAdd.Descriptor,
            (c, x, y) => c is null ? Tasks.MathAdd.EnqueueAsync(x, y) : Tasks.MathAdd.WithClient(c).EnqueueAsync(x, y),
            async (c, a) => await Tasks.MathAdd.WithClient(c).EnqueueManyAsync(a)),
        "default" => new("default", Tasks.DefaultAdd.Descriptor,
            (c, x, y) => c is null ? Tasks.DefaultAdd.EnqueueAsync(x, y) : Tasks.DefaultAdd.WithClient(c).EnqueueAsync(x, y),
            async (c, a) => await Tasks.DefaultAdd.WithClient(c).EnqueueManyAsync(a)),
        _ => throw new ArgumentException($"Unknown TASK '{choice}': use one of {string.Join(", ", Choices)}."),
    };
}

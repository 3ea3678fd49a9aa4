using System;
using System.ComponentModel;
using System.Threading.Tasks;
using MessagePack;

namespace TypedTasks;

/// <summary>
/// Turns what a task method returned into its encoded result. Called by the generated dispatch
/// table; a result already complete is encoded without an async state machine.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TaskResults
{
    /// <summary>The result of a task that returns nothing.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> None => default;

    /// <summary>Encodes a value returned synchronously.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> FromValue<T>(T value, MessagePackSerializerOptions options)
        => new(MessagePackSerializer.Serialize(value, options));

    /// <summary>Encodes the value of a <see cref="Task{T}"/> once it completes.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> FromTask<T>(Task<T> task, MessagePackSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.IsCompletedSuccessfully ? FromValue(task.Result, options) : Await(task, options);

        static async ValueTask<ReadOnlyMemory<byte>> Await(Task<T> task, MessagePackSerializerOptions options)
            => MessagePackSerializer.Serialize(await task.ConfigureAwait(false), options);
    }

    /// <summary>Encodes the value of a <see cref="ValueTask{T}"/> once it completes.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> FromValueTask<T>(ValueTask<T> task, MessagePackSerializerOptions options)
    {
        return task.IsCompletedSuccessfully ? FromValue(task.Result, options) : Await(task, options);

        static async ValueTask<ReadOnlyMemory<byte>> Await(ValueTask<T> task, MessagePackSerializerOptions options)
            => MessagePackSerializer.Serialize(await task.ConfigureAwait(false), options);
    }

    /// <summary>Completes when a <see cref="Task"/> does, with no result.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> FromTask(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.IsCompletedSuccessfully ? None : Await(task);

        static async ValueTask<ReadOnlyMemory<byte>> Await(Task task)
        {
            await task.ConfigureAwait(false);
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    /// <summary>Completes when a <see cref="ValueTask"/> does, with no result.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> FromValueTask(ValueTask task)
    {
        return task.IsCompletedSuccessfully ? None : Await(task);

        static async ValueTask<ReadOnlyMemory<byte>> Await(ValueTask task)
        {
            await task.ConfigureAwait(false);
            return ReadOnlyMemory<byte>.Empty;
        }
    }
}

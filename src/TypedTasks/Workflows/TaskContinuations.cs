using System;
using System.Buffers;
using System.ComponentModel;
using MessagePack;

namespace TypedTasks.Workflows;

/// <summary>Helpers of generated proxies for workflows: the open call of a one-parameter task, and filling an open call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TaskContinuations
{
    /// <summary>The call of a one-parameter task with its argument open (a nil); called by generated proxies.</summary>
    /// <typeparam name="TOut">The task's result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <param name="options">The proxy's bound options.</param>
    /// <param name="client">The proxy's bound client.</param>
    /// <returns>The open call.</returns>
    public static TaskCall<TOut> Open<TOut>(TaskDescriptor task, EnqueueOptions? options, TaskClient? client)
        => TaskCall.Create<TOut, OpenArgument>(task, default, options, client).Opened();

    /// <summary>The call of a one-parameter task without a result, with its argument open (a nil); called by generated proxies.</summary>
    /// <param name="task">The task.</param>
    /// <param name="options">The proxy's bound options.</param>
    /// <param name="client">The proxy's bound client.</param>
    /// <returns>The open call.</returns>
    public static TaskCall Open(TaskDescriptor task, EnqueueOptions? options, TaskClient? client)
        => TaskCall.Create<OpenArgument>(task, default, options, client).Opened();

    /// <summary>The call of <paramref name="continuation"/> with <paramref name="first"/> in place of its open first argument.</summary>
    /// <typeparam name="TIn">The type of the first parameter.</typeparam>
    /// <typeparam name="TOut">The task's result type.</typeparam>
    /// <param name="continuation">The task with its first argument open.</param>
    /// <param name="first">The first argument.</param>
    /// <returns>A call, nothing sent.</returns>
    public static TaskCall<TOut> Fill<TIn, TOut>(ITaskContinuation<TIn, TOut> continuation, TIn first)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var open = continuation.Open;
        var at = OpenAt(open.Arguments.Span);
        var buffer = new ArrayBufferWriter<byte>(open.Arguments.Length + 16);
        var writer = new MessagePackWriter(buffer);
        writer.WriteRaw(open.Arguments.Span[..at]);
        TaskSerializer.Write(ref writer, first, TaskSerializer.Options);
        writer.WriteRaw(open.Arguments.Span[(at + 1)..]);
        writer.Flush();
        return new TaskCall<TOut>(open.Task, buffer.WrittenSpan.ToArray(), open.Options, open.BoundClient);
    }

    /// <summary>The offset of the open (nil) first argument in an argument array.</summary>
    internal static int OpenAt(ReadOnlySpan<byte> arguments)
    {
        var at = arguments.IsEmpty ? -1 : arguments[0] switch
        {
            >= 0x91 and <= 0x9f => 1,
            0xdc => 3,
            0xdd => 5,
            _ => -1,
        };
        if (at < 0 || at >= arguments.Length || arguments[at] != 0xc0)
        {
            throw new ArgumentException("A chain step's call must have its first argument open (a MessagePack nil): make it with the task's proxy (Tasks.X or Tasks.X.Bind(...)).", nameof(arguments));
        }

        return at;
    }

    /// <summary>The arguments of a one-parameter task with that parameter open: [nil].</summary>
    private readonly struct OpenArgument : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(1);
            writer.WriteNil();
        }
    }
}

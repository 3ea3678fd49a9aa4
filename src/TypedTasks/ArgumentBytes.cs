using System;
using System.Buffers;
using MessagePack;

namespace TypedTasks;

/// <summary>
/// The MessagePack bytes of each argument of one message, as a producer writes them: what unique
/// keys and limit keys are made of, so that every producer makes the same key for equal values.
/// </summary>
internal static class ArgumentBytes
{
    /// <summary>Encodes <paramref name="arguments"/> and splits the array into its elements' bytes, in order.</summary>
    public static ReadOnlyMemory<byte>[] Of<TArgs>(TArgs arguments)
        where TArgs : struct, ITaskArguments
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        arguments.Write(ref writer, TaskSerializer.Options);
        writer.Flush();

        var encoded = buffer.WrittenMemory;
        var reader = new MessagePackReader(encoded);
        var slices = new ReadOnlyMemory<byte>[reader.ReadArrayHeader()];
        for (var i = 0; i < slices.Length; i++)
        {
            var start = (int)reader.Consumed;
            reader.Skip();
            slices[i] = encoded[start..(int)reader.Consumed];
        }

        return slices;
    }

    /// <summary>Throws when <paramref name="position"/> is not an argument of <paramref name="slices"/>: the descriptor came from other code than the message.</summary>
    public static void CheckPosition(TaskDescriptor task, ReadOnlyMemory<byte>[] slices, int position, string what)
    {
        if (position < 0 || position >= slices.Length)
        {
            throw new InvalidOperationException($"Task '{task.Name}' {what} argument {position}, but a message of it carries {slices.Length}; rebuild the project that declares it.");
        }
    }
}

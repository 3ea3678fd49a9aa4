using System;
using System.Buffers;
using System.Security.Cryptography;
using MessagePack;

namespace TypedTasks;

/// <summary>
/// The unique key of one enqueue of a task with <see cref="TaskDescriptor.UniqueFor"/>: the task's
/// name and a hash of the MessagePack encoding of the arguments it is unique by. The encoding of
/// the types the generator allows there (primitives, strings, Guids, enums, dates, decimals and
/// arrays of those) does not change between processes, so every producer makes the same key.
/// </summary>
internal static class UniqueKeys
{
    /// <summary>The key of an enqueue of <paramref name="task"/> with <paramref name="arguments"/>, or null when the task is not unique.</summary>
    public static string? For<TArgs>(TaskDescriptor task, TArgs arguments)
        where TArgs : struct, ITaskArguments
    {
        if (task.UniqueFor is null)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        arguments.Write(ref writer, TaskSerializer.Options);
        writer.Flush();

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = new MessagePackReader(buffer.WrittenMemory);
        var count = reader.ReadArrayHeader();
        var all = task.UniqueBy.Count == 0;
        foreach (var position in task.UniqueBy)
        {
            if (position < 0 || position >= count)
            {
                throw new InvalidOperationException($"Task '{task.Name}' is unique by argument {position}, but a message of it carries {count}; rebuild the project that declares it.");
            }
        }

        for (var i = 0; i < count; i++)
        {
            var start = (int)reader.Consumed;
            reader.Skip();
            if (all || Contains(task.UniqueBy, i))
            {
                hash.AppendData(buffer.WrittenSpan[start..(int)reader.Consumed]);
            }
        }

        return task.Name + ":" + Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }

    private static bool Contains(System.Collections.Generic.IReadOnlyList<int> positions, int i)
    {
        foreach (var p in positions)
        {
            if (p == i)
            {
                return true;
            }
        }

        return false;
    }
}

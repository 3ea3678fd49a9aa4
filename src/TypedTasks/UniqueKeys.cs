using System;
using System.Security.Cryptography;

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

        var slices = ArgumentBytes.Of(arguments);
        foreach (var position in task.UniqueBy)
        {
            ArgumentBytes.CheckPosition(task, slices, position, "is unique by");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var all = task.UniqueBy.Count == 0;
        for (var i = 0; i < slices.Length; i++)
        {
            if (all || Contains(task.UniqueBy, i))
            {
                hash.AppendData(slices[i].Span);
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

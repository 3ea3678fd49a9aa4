using System;

namespace TypedTasks;

/// <summary>
/// What a queue name may be, decided here for the whole runtime (client, worker, stores, CLI) with
/// the rule the generator applies to <c>[Task(Queue = ...)]</c> at compile time (TT0011): 1 to
/// <see cref="MaxLength"/> characters, no white space, no braces, no '@'. Braces would break the
/// Redis hash tag that keeps a queue's keys in one slot; white space breaks the lists of queues
/// that workers publish and tools read; '@' ends the store's own part of a task id, whose rest is
/// the queue.
/// </summary>
internal static class QueueName
{
    /// <summary>The longest queue name accepted.</summary>
    public const int MaxLength = 200;

    /// <summary>The rule in words, for error messages.</summary>
    public const string Rule = "a queue name is 1 to 200 characters without white space, braces or '@', such as \"default\" or \"reports\"";

    public static bool IsValid(string? name) => name is not null && IsValid(name.AsSpan());

    /// <summary>Whether <paramref name="name"/> is a queue name: for a part of a longer string, such as a task id's.</summary>
    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (char.IsWhiteSpace(c) || c is '{' or '}' or '@')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Why <paramref name="name"/> is not a queue name, starting with the name itself; null when it is one.</summary>
    public static string? Problem(string? name)
        => IsValid(name) ? null : $"{Show(name)} is not a valid queue name: {Rule}";

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a valid queue name.</summary>
    public static void Check(string? name, string parameter = "queue")
    {
        if (Problem(name) is { } problem)
        {
            throw new ArgumentException(problem + ".", parameter);
        }
    }

    // A long name is cut, so that an error stays one readable line.
    private static string Show(string? name) => name is null ? "null"
        : name.Length > MaxLength ? $"'{name[..40]}...' ({name.Length} characters)"
        : $"'{name}'";
}

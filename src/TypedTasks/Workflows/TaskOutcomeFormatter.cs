using MessagePack;
using MessagePack.Formatters;
using TypedTasks.Serialization;

namespace TypedTasks.Workflows;

/// <summary>
/// A <see cref="TaskOutcome{T}"/> as the stores write it (docs/workflows.md): [state, result or nil,
/// error or nil], the error [type, message, stack] and, when it names a failed step, its id and name.
/// </summary>
/// <typeparam name="T">The member's result type.</typeparam>
internal sealed class TaskOutcomeFormatter<T> : IMessagePackFormatter<TaskOutcome<T>?>
{
    public void Serialize(ref MessagePackWriter writer, TaskOutcome<T>? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(3);
        writer.Write((int)value.State);
        if (value.Succeeded)
        {
            TaskSerializer.Write(ref writer, value.Value, options);
        }
        else
        {
            writer.WriteNil();
        }

        TaskOutcomeFormatter.WriteError(ref writer, value.Error);
    }

    public TaskOutcome<T>? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var (state, count) = TaskOutcomeFormatter.ReadState(ref reader);
        var value = reader.TryReadNil() ? default : TaskSerializer.Read<T>(ref reader, options);
        return new TaskOutcome<T>(state, value, TaskOutcomeFormatter.ReadError(ref reader, count, state));
    }
}

/// <summary>
/// A <see cref="TaskOutcome"/> as the stores write it: the same [state, result or nil, error or nil]
/// as <see cref="TaskOutcomeFormatter{T}"/>, its result (a nil for a task without one) skipped.
/// </summary>
internal sealed class TaskOutcomeFormatter : IMessagePackFormatter<TaskOutcome?>
{
    public void Serialize(ref MessagePackWriter writer, TaskOutcome? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(3);
        writer.Write((int)value.State);
        writer.WriteNil();
        WriteError(ref writer, value.Error);
    }

    public TaskOutcome? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var (state, count) = ReadState(ref reader);
        reader.Skip();
        return new TaskOutcome(state, ReadError(ref reader, count, state));
    }

    /// <summary>The outcome's error, or a nil.</summary>
    internal static void WriteError(ref MessagePackWriter writer, TaskError? error)
    {
        if (error is not null)
        {
            TaskErrorCodec.Write(ref writer, error);
        }
        else
        {
            writer.WriteNil();
        }
    }

    /// <summary>The outcome's array header and state; its result comes next.</summary>
    internal static (TaskState State, int Count) ReadState(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        if (count < 3)
        {
            throw new MessagePackSerializationException($"A task outcome is an array of 3 (state, result, error), not of {count}.");
        }

        return ((TaskState)reader.ReadInt32(), count);
    }

    /// <summary>
    /// The outcome's error (after its result), skipping what a later version adds after it. An
    /// expired member stores none (it never ran): it gets the error a step after it would name.
    /// </summary>
    internal static TaskError? ReadError(ref MessagePackReader reader, int count, TaskState state)
    {
        var error = reader.TryReadNil() ? null : TaskErrorCodec.Read(ref reader);
        for (var i = 3; i < count; i++)
        {
            reader.Skip();
        }

        return error ?? (state == TaskState.Expired ? Expired : null);
    }

    private static readonly TaskError Expired = new("TypedTasks.TaskExpired", "The member expired before it ran: its ExpiresAt (or its task's Expires) passed while it waited.", null);
}

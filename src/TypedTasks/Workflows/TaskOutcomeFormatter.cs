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

        if (value.Error is { } error)
        {
            TaskErrorCodec.Write(ref writer, error);
        }
        else
        {
            writer.WriteNil();
        }
    }

    public TaskOutcome<T>? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var count = reader.ReadArrayHeader();
        if (count < 3)
        {
            throw new MessagePackSerializationException($"A task outcome is an array of 3 (state, result, error), not of {count}.");
        }

        var state = (TaskState)reader.ReadInt32();
        var value = reader.TryReadNil() ? default : TaskSerializer.Read<T>(ref reader, options);
        var error = reader.TryReadNil() ? null : TaskErrorCodec.Read(ref reader);
        for (var i = 3; i < count; i++)
        {
            reader.Skip();
        }

        return new TaskOutcome<T>(state, value, error);
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
        if (value.Error is { } error)
        {
            TaskErrorCodec.Write(ref writer, error);
        }
        else
        {
            writer.WriteNil();
        }
    }

    public TaskOutcome? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var count = reader.ReadArrayHeader();
        if (count < 3)
        {
            throw new MessagePackSerializationException($"A task outcome is an array of 3 (state, result, error), not of {count}.");
        }

        var state = (TaskState)reader.ReadInt32();
        reader.Skip();
        var error = reader.TryReadNil() ? null : TaskErrorCodec.Read(ref reader);
        for (var i = 3; i < count; i++)
        {
            reader.Skip();
        }

        return new TaskOutcome(state, error);
    }
}

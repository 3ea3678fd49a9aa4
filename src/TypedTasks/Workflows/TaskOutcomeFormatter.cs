using MessagePack;
using MessagePack.Formatters;

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

        if (value.Error is not { } error)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(error.FailedTaskId is null ? 3 : 5);
        writer.Write(error.Type);
        writer.Write(error.Message);
        writer.Write(error.StackTrace);
        if (error.FailedTaskId is not null)
        {
            writer.Write(error.FailedTaskId);
            writer.Write(error.FailedTaskName);
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
        TaskError? error = null;
        if (!reader.TryReadNil())
        {
            var fields = reader.ReadArrayHeader();
            error = new TaskError(reader.ReadString() ?? string.Empty, reader.ReadString() ?? string.Empty, reader.ReadString());
            var read = 3;
            if (fields >= 5)
            {
                error = error with { FailedTaskId = reader.ReadString(), FailedTaskName = reader.ReadString() };
                read = 5;
            }

            for (var i = read; i < fields; i++)
            {
                reader.Skip();
            }
        }

        for (var i = 3; i < count; i++)
        {
            reader.Skip();
        }

        return new TaskOutcome<T>(state, value, error);
    }
}

using MessagePack;

namespace TypedTasks.Serialization;

/// <summary>
/// A task's error as the stores keep it (docs/wire-format.md): [type, message, stack], and for a
/// workflow step canceled by an earlier failure also [.., failed task id, failed task name].
/// </summary>
internal static class TaskErrorCodec
{
    public static void Write(ref MessagePackWriter writer, TaskError error)
    {
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

    /// <summary>Reads an error written by <see cref="Write"/>; fields past those it knows are skipped.</summary>
    public static TaskError Read(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        var error = new TaskError(reader.ReadString() ?? string.Empty, reader.ReadString() ?? string.Empty, reader.ReadString());
        var read = 3;
        if (count >= 5)
        {
            error = error with { FailedTaskId = reader.ReadString(), FailedTaskName = reader.ReadString() };
            read = 5;
        }

        for (var i = read; i < count; i++)
        {
            reader.Skip();
        }

        return error;
    }
}

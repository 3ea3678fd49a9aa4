using System;
using System.Buffers;
using System.IO;
using MessagePack;

namespace TypedTasks.Serialization;

/// <summary>
/// The stored form of a <see cref="TaskInfo"/> (docs/wire-format.md, "Result record"): a MessagePack
/// array <c>[version, state, task, attempt, updated_at_ms, result, error, queue, worker]</c> where
/// result is the task's MessagePack-encoded return value (nil when none), error is nil or
/// <c>[type, message, stack]</c>, and queue and worker are strings or nil. Records of 7 fields
/// (written before queue and worker existed) are read with both null; fields past the 9th are
/// skipped, so a later field can be added the same way.
/// </summary>
internal static class TaskInfoCodec
{
    public const int CurrentVersion = 1;
    private const int MinFieldCount = 7;
    private const int FieldCount = 9;

    /// <summary>The most fields a record may have and still be a MessagePack fixarray (one header byte).</summary>
    private const int MaxFieldCount = 15;

    public static byte[] Write(TaskInfo info)
    {
        var buffer = ScratchBuffer.Rent();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(FieldCount);
        writer.Write(CurrentVersion);
        writer.Write((int)info.State);
        writer.Write(info.TaskName);
        writer.Write(info.Attempt);
        writer.Write(info.UpdatedAt.ToUnixTimeMilliseconds());
        if (info.Result.IsEmpty)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteRaw(info.Result.Span);
        }

        if (info.Error is { } error)
        {
            writer.WriteArrayHeader(3);
            writer.Write(error.Type);
            writer.Write(error.Message);
            writer.Write(error.StackTrace);
        }
        else
        {
            writer.WriteNil();
        }

        writer.Write(info.Queue);
        writer.Write(info.Worker);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// True for a version-1 record whose state is not final, told from its first three bytes (a
    /// fixarray header of 7 to 15 fields, 0x01, the state) without decoding it: a waiter that
    /// reads one goes on waiting. Any other bytes are for <see cref="Read"/> to decode or reject.
    /// </summary>
    public static bool IsUnfinished(ReadOnlySpan<byte> stored)
        => stored.Length > 3 && stored[0] >= 0x90 + MinFieldCount && stored[0] <= 0x90 + MaxFieldCount
            && stored[1] == CurrentVersion && stored[2] < (byte)TaskState.Succeeded;

    public static TaskInfo Read(string id, ReadOnlyMemory<byte> stored)
    {
        try
        {
            var reader = new MessagePackReader(stored);
            var count = reader.ReadArrayHeader();
            var version = reader.ReadInt32();
            if (version != CurrentVersion || count < MinFieldCount || count > MaxFieldCount)
            {
                throw new InvalidDataException($"The stored state of task {id} has record version {version} with {count} fields; this client reads version {CurrentVersion} with {MinFieldCount} to {MaxFieldCount} fields.");
            }

            var state = (TaskState)reader.ReadInt32();
            if (!Enum.IsDefined(state))
            {
                throw new InvalidDataException($"The stored state of task {id} is not a TypedTasks result record: state {(int)state} is not a TaskState.");
            }

            var task = reader.ReadString() ?? string.Empty;
            var attempt = reader.ReadInt32();
            var updatedMs = reader.ReadInt64();
            if (updatedMs < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || updatedMs > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                throw new InvalidDataException($"The stored state of task {id} is not a TypedTasks result record: updated_at {updatedMs} is not a time in Unix milliseconds (years 0001 to 9999).");
            }

            var updatedAt = DateTimeOffset.FromUnixTimeMilliseconds(updatedMs);
            var result = ReadOnlyMemory<byte>.Empty;
            if (!reader.TryReadNil())
            {
                var start = (int)reader.Consumed;
                reader.Skip();
                result = stored[start..(int)reader.Consumed];
            }

            TaskError? error = null;
            if (!reader.TryReadNil())
            {
                _ = reader.ReadArrayHeader();
                error = new TaskError(reader.ReadString() ?? string.Empty, reader.ReadString() ?? string.Empty, reader.ReadString());
            }

            var queue = count > 7 ? reader.ReadString() : null;
            var worker = count > 8 ? reader.ReadString() : null;
            return new TaskInfo(id, task, state, attempt, updatedAt, error, result) { Queue = queue, Worker = worker };
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            throw new InvalidDataException($"The stored state of task {id} is not a TypedTasks result record: {ex.Message}", ex);
        }
    }
}

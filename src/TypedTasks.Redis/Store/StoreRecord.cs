using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using MessagePack;
using TypedTasks.Serialization;

namespace TypedTasks.Redis.Store;

/// <summary>
/// A task's record as the store scripts write it (Scripts/shared.lua says the layout): a 14-byte
/// header (state, priority, attempt, fence, updated time), the task name (only once the task
/// succeeded: until then its envelope names it), the worker (its number, or the <c>host:pid</c>
/// of a record written before workers had numbers), the chosen id, the error, and the
/// envelope (the result once the task succeeded).
/// </summary>
internal readonly record struct StoreRecord(
    TaskState State,
    int Priority,
    int Attempt,
    long Fence,
    DateTimeOffset UpdatedAt,
    string Name,
    string? Worker,
    ReadOnlyMemory<byte> Error,
    ReadOnlyMemory<byte> Body)
{
    private const int HeaderLength = 14;
    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Reads a record; <see cref="InvalidDataException"/> when the bytes are not one.</summary>
    public static StoreRecord Read(string id, ReadOnlyMemory<byte> stored)
    {
        var s = stored.Span;
        if (s.Length < HeaderLength + 8 || s[0] > (byte)TaskState.Expired)
        {
            throw new InvalidDataException($"The stored record of task {id} is not a task store record ({s.Length} bytes).");
        }

        var state = (TaskState)s[0];
        // A limited task's priority byte has 128 added, and its limits come before its body.
        var priority = s[1];
        var limited = priority >= 128;
        priority &= 127;
        var attempt = BinaryPrimitives.ReadUInt16BigEndian(s[2..]);
        var fence = BinaryPrimitives.ReadUInt32BigEndian(s[4..]);
        var updated = ((long)BinaryPrimitives.ReadUInt16BigEndian(s[8..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(s[10..]);
        if (updated > MaxUnixMilliseconds)
        {
            // 48 bits hold times past the year 9999, which DateTimeOffset does not: such a record is garbage.
            throw new InvalidDataException($"The stored record of task {id} is not a task store record: its updated time {updated} is not a time in Unix milliseconds (years 1970 to 9999).");
        }

        var pos = HeaderLength;
        var name = Text(stored, ref pos, Length(s, ref pos, 1));
        var worker = Text(stored, ref pos, Length(s, ref pos, 1));
        var chosenLength = Length(s, ref pos, 2);
        pos += chosenLength; // the chosen id, not read here
        var errorLength = Length(s, ref pos, 4);
        var error = stored.Slice(pos, errorLength);
        pos += errorLength;
        if (limited)
        {
            var limits = Length(s, ref pos, 2);
            pos += limits;
        }

        var body = stored[pos..];

        // The name is stored once the envelope, which holds it, is dropped (Succeeded), or as '?'
        // when the body is no envelope the store put a name back into.
        if (name.Length == 0)
        {
            name = state == TaskState.Succeeded ? "?" : TaskEnvelope.TryReadTaskName(body) ?? "?";
        }

        return new StoreRecord(state, priority, attempt, fence, DateTimeOffset.FromUnixTimeMilliseconds(updated), name, worker.Length == 0 ? null : worker, error, body);

        int Length(ReadOnlySpan<byte> span, ref int at, int size)
        {
            if (at + size > span.Length)
            {
                throw new InvalidDataException($"The stored record of task {id} is cut short.");
            }

            var value = size switch
            {
                1 => span[at],
                2 => BinaryPrimitives.ReadUInt16BigEndian(span[at..]),
                _ => (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(span[at..]), int.MaxValue),
            };
            at += size;
            if (at + value > span.Length)
            {
                throw new InvalidDataException($"The stored record of task {id} is cut short.");
            }

            return value;
        }
    }

    private static string Text(ReadOnlyMemory<byte> stored, ref int pos, int length)
    {
        var text = Utf8.GetString(stored.Span.Slice(pos, length));
        pos += length;
        return text;
    }

    /// <summary>The task as callers see it; <paramref name="worker"/> is the name of the worker whose number the record keeps.</summary>
    public TaskInfo ToInfo(string id, string queue, string? worker) => new(
        id,
        Name,
        State,
        Attempt,
        UpdatedAt,
        Error.IsEmpty ? null : ReadError(Error),
        State == TaskState.Succeeded ? Body : ReadOnlyMemory<byte>.Empty)
    {
        Queue = queue,
        Worker = worker,
    };

    /// <summary>The envelope while the store keeps it (until the task succeeds).</summary>
    public ReadOnlyMemory<byte> Envelope => State == TaskState.Succeeded ? ReadOnlyMemory<byte>.Empty : Body;

    /// <summary>An error as a record holds it: a MessagePack array [type, message, stack].</summary>
    public static byte[] WriteError(TaskError error)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + error.Message.Length + (error.StackTrace?.Length ?? 0));
        var writer = new MessagePackWriter(buffer);
        TaskErrorCodec.Write(ref writer, error);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static TaskError? ReadError(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            return TaskErrorCodec.Read(ref reader);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            return new TaskError("?", "The stored error could not be read.", null);
        }
    }

    /// <summary>The task name a record keeps: from the envelope, at most 255 bytes; "?" when unreadable.</summary>
    public static byte[] NameOf(ReadOnlyMemory<byte> envelope)
    {
        if (!TaskEnvelope.TryReadTaskNameUtf8(envelope, out var name) || name.IsEmpty)
        {
            return "?"u8.ToArray();
        }

        return name.Slice(0, Math.Min(name.Length, 255)).ToArray();
    }
}

using System;
using System.Buffers;
using MessagePack;
using TypedTasks.Transport;

namespace TypedTasks.Redis;

/// <summary>
/// An entry of a dead-letter list: MessagePack <c>[1, queue, reason, at_ms, body]</c> with the body
/// as bin, byte for byte as it was in the queue (docs/redis-layout.md).
/// </summary>
internal static class DeadLetterRecord
{
    public static byte[] Write(string queue, ReadOnlySpan<byte> body, string reason, DateTimeOffset at)
    {
        var buffer = new ArrayBufferWriter<byte>(body.Length + reason.Length + 32);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(5);
        writer.Write(1);
        writer.Write(queue);
        writer.Write(reason);
        writer.Write(at.ToUnixTimeMilliseconds());
        writer.Write(body);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static DeadLetter Read(ReadOnlyMemory<byte> record)
    {
        var reader = new MessagePackReader(record);
        if (reader.ReadArrayHeader() != 5 || reader.ReadInt32() != 1)
        {
            throw new InvalidOperationException("Not a TypedTasks dead-letter record of version 1.");
        }

        var queue = reader.ReadString() ?? string.Empty;
        var reason = reader.ReadString() ?? string.Empty;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        var body = reader.ReadBytes()?.ToArray() ?? [];
        return new DeadLetter(queue, body, reason, at);
    }
}

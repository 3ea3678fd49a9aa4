using System;
using System.Buffers;

namespace TypedTasks.Serialization;

/// <summary>
/// A per-thread growable buffer for encoding envelopes and records: each encoding ends in one
/// exact-size array, and the scratch space is reused instead of allocated per message.
/// </summary>
internal static class ScratchBuffer
{
    private const int MaxRetained = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    /// <summary>The thread's buffer, emptied. Copy out with ToArray before the thread encodes again.</summary>
    public static ArrayBufferWriter<byte> Rent()
    {
        var buffer = _buffer;
        if (buffer is null || buffer.Capacity > MaxRetained)
        {
            // A buffer that grew for one huge message is not kept.
            buffer = _buffer = new ArrayBufferWriter<byte>(256);
        }

        buffer.ResetWrittenCount();
        return buffer;
    }
}

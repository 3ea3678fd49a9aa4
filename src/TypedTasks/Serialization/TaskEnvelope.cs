using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using MessagePack;

namespace TypedTasks.Serialization;

/// <summary>
/// One task message as it travels through a broker. The layout is documented byte for byte in
/// docs/wire-format.md; <see cref="CurrentVersion"/> changes whenever it does.
/// </summary>
internal sealed class TaskEnvelope
{
    public const int CurrentVersion = 2;

    /// <summary>The first version, still read: messages left in queues of 0.1 drain after an upgrade.</summary>
    public const int LegacyVersion = 1;
    private const int FieldCount = 7;
    private const int LegacyFieldCount = 11;

    // The Unix milliseconds of DateTimeOffset.MinValue and MaxValue.
    private const long MinUnixMilliseconds = -62_135_596_800_000;
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    /// <summary>The header that carries a periodic run's fire time (Unix milliseconds): TaskContext.ScheduledFor.</summary>
    public const string ScheduledForHeader = "tt-scheduled-for";

    /// <summary>The header that carries the id of the workflow a task belongs to: TaskContext.WorkflowId.</summary>
    public const string WorkflowIdHeader = "tt-workflow";

    /// <summary>The version read.</summary>
    public int Version { get; init; }

    /// <summary>The id a version 1 envelope carries; null in version 2, where the store gives it.</summary>
    public string? Id { get; init; }

    public required string TaskName { get; init; }

    /// <summary>The queue a version 1 envelope carries; null in version 2, where the store gives it.</summary>
    public string? Queue { get; init; }

    /// <summary>The priority a version 1 envelope carries; 0 in version 2, where the store keeps it.</summary>
    public int Priority { get; init; }

    /// <summary>Retries so far a version 1 envelope carries; 0 in version 2, where the store keeps the attempt.</summary>
    public int Attempt { get; init; }

    public DateTimeOffset EnqueuedAt { get; init; }
    public DateTimeOffset? Eta { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>The arguments as one MessagePack array, exactly as the producer wrote them.</summary>
    public ReadOnlyMemory<byte> Arguments { get; init; }

    /// <summary>The fire time the <see cref="ScheduledForHeader"/> header carries; null when absent or not a valid time.</summary>
    public DateTimeOffset? ScheduledFor
        => Headers is not null && Headers.TryGetValue(ScheduledForHeader, out var text)
            && long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            && ms is >= MinUnixMilliseconds and <= MaxUnixMilliseconds
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>The workflow id the <see cref="WorkflowIdHeader"/> header carries; null when absent.</summary>
    public string? WorkflowId => Headers is not null && Headers.TryGetValue(WorkflowIdHeader, out var id) && id.Length > 0 ? id : null;

    /// <summary>Writes an envelope whose arguments are written by <paramref name="arguments"/>.</summary>
    public static byte[] Write<TArgs>(in EnvelopeHeader header, in TArgs arguments, MessagePackSerializerOptions options)
        where TArgs : ITaskArguments
    {
        var buffer = ScratchBuffer.Rent();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(FieldCount);
        writer.Write(CurrentVersion);
        writer.Write(header.TaskName);
        writer.Write(header.EnqueuedAt.ToUnixTimeMilliseconds());
        WriteTime(ref writer, header.Eta);
        WriteTime(ref writer, header.ExpiresAt);
        WriteHeaders(ref writer, header.Headers);
        arguments.Write(ref writer, options);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a version 1 envelope, as 0.1 producers did: for upgrade tests and tools that must speak to 0.1.</summary>
    public static byte[] WriteLegacy<TArgs>(in LegacyEnvelopeHeader h, in TArgs arguments, MessagePackSerializerOptions options)
        where TArgs : ITaskArguments
    {
        var buffer = ScratchBuffer.Rent();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(LegacyFieldCount);
        writer.Write(LegacyVersion);
        writer.Write(h.Id);
        writer.Write(h.TaskName);
        writer.Write(h.Queue);
        writer.Write(h.Priority);
        writer.Write(h.Attempt);
        writer.Write(h.EnqueuedAt.ToUnixTimeMilliseconds());
        WriteTime(ref writer, h.Eta);
        WriteTime(ref writer, h.ExpiresAt);
        WriteHeaders(ref writer, h.Headers);
        arguments.Write(ref writer, options);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteHeaders(ref MessagePackWriter writer, IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteMapHeader(headers.Count);
        if (headers is Dictionary<string, string> dictionary)
        {
            // Its own enumerator, a struct: no enumerator allocated per envelope.
            foreach (var pair in dictionary)
            {
                writer.Write(pair.Key);
                writer.Write(pair.Value);
            }

            return;
        }

        foreach (var pair in headers)
        {
            writer.Write(pair.Key);
            writer.Write(pair.Value);
        }
    }

    private static void WriteTime(ref MessagePackWriter writer, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            writer.Write(t.ToUnixTimeMilliseconds());
        }
        else
        {
            writer.WriteNil();
        }
    }

    /// <summary>
    /// Reads an envelope. Anything that is not a well-formed envelope of a known version throws
    /// <see cref="InvalidEnvelopeException"/> with the reason; nothing in it names a type to create.
    /// </summary>
    public static TaskEnvelope Read(ReadOnlyMemory<byte> body)
    {
        try
        {
            var reader = new MessagePackReader(body);
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                throw new InvalidEnvelopeException($"not a TypedTasks envelope: expected a MessagePack array, found {reader.NextMessagePackType}");
            }

            var count = reader.ReadArrayHeader();
            if (count < 1)
            {
                throw new InvalidEnvelopeException("not a TypedTasks envelope: empty array");
            }

            if (reader.NextMessagePackType != MessagePackType.Integer)
            {
                throw new InvalidEnvelopeException("not a TypedTasks envelope: the first field is not a version number");
            }

            var version = reader.ReadInt32();
            if (version is not (CurrentVersion or LegacyVersion))
            {
                throw new InvalidEnvelopeException($"unsupported envelope version {version}; this worker reads versions {LegacyVersion} and {CurrentVersion}");
            }

            var expected = version == CurrentVersion ? FieldCount : LegacyFieldCount;
            if (count != expected)
            {
                throw new InvalidEnvelopeException($"malformed envelope: version {version} has {expected} fields, this one has {count}");
            }

            string? id = null, queue = null;
            int priority = 0, attempt = 0;
            if (version == LegacyVersion)
            {
                id = ReadRequiredString(ref reader, "id");
            }

            if (version == CurrentVersion && reader.NextMessagePackType == MessagePackType.Integer)
            {
                // A store that keeps long names once per queue gives the envelope back with the name
                // in place; a number here is one it could no longer find (docs/redis-layout.md), or
                // the producer wrote none.
                throw new InvalidEnvelopeException($"malformed envelope: the task name is the integer {reader.ReadInt64()} (a name-table number its store no longer holds, or an envelope written without a name)");
            }

            var task = ReadRequiredString(ref reader, "task");
            if (version == LegacyVersion)
            {
                queue = ReadRequiredString(ref reader, "queue");
                priority = reader.ReadInt32();
                if (priority is < 0 or > TaskDefaults.MaxPriority)
                {
                    throw new InvalidEnvelopeException($"malformed envelope: priority {priority} is outside 0 to {TaskDefaults.MaxPriority}");
                }

                attempt = reader.ReadInt32();
                if (attempt < 0)
                {
                    throw new InvalidEnvelopeException($"malformed envelope: attempt {attempt} is negative");
                }
            }

            var enqueuedAt = ReadTime(ref reader, "enqueued_at") ?? throw new InvalidEnvelopeException("malformed envelope: enqueued_at is nil");
            var eta = ReadTime(ref reader, "eta");
            var expiresAt = ReadTime(ref reader, "expires_at");
            Dictionary<string, string>? headers = null;
            if (!reader.TryReadNil())
            {
                var n = reader.ReadMapHeader();
                headers = new Dictionary<string, string>(n, StringComparer.Ordinal);
                for (var i = 0; i < n; i++)
                {
                    var key = ReadRequiredString(ref reader, "header name");
                    headers[key] = reader.ReadString() ?? string.Empty;
                }
            }

            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                throw new InvalidEnvelopeException("malformed envelope: the arguments are not an array");
            }

            var start = reader.Consumed;
            reader.Skip();
            var arguments = body.Slice((int)start, (int)(reader.Consumed - start));
            if (!reader.End)
            {
                throw new InvalidEnvelopeException("malformed envelope: trailing bytes after the arguments");
            }

            return new TaskEnvelope
            {
                Version = version,
                Id = id,
                TaskName = task,
                Queue = queue,
                Priority = priority,
                Attempt = attempt,
                EnqueuedAt = enqueuedAt,
                Eta = eta,
                ExpiresAt = expiresAt,
                Headers = headers,
                Arguments = arguments,
            };
        }
        catch (InvalidEnvelopeException)
        {
            throw;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            throw new InvalidEnvelopeException($"malformed envelope: {ex.Message}", ex);
        }
    }

    /// <summary>The task name of an envelope of any version, for a store's reports; null when unreadable.</summary>
    public static string? TryReadTaskName(ReadOnlyMemory<byte> body)
    {
        try
        {
            return Read(body).TaskName;
        }
        catch (InvalidEnvelopeException)
        {
            return null;
        }
    }

    /// <summary>
    /// The task name's UTF-8 bytes, read without decoding the rest of the envelope (a settle names
    /// the task that ran, whose envelope was read whole before it ran); false when the envelope's
    /// start is not that of version 1 or 2.
    /// </summary>
    public static bool TryReadTaskNameUtf8(ReadOnlyMemory<byte> body, out ReadOnlySequence<byte> name)
    {
        name = default;
        try
        {
            var reader = new MessagePackReader(body);
            var count = reader.ReadArrayHeader();
            var version = reader.ReadInt32();
            if (!(version == CurrentVersion && count == FieldCount) && !(version == LegacyVersion && count == LegacyFieldCount))
            {
                return false;
            }

            if (version == LegacyVersion)
            {
                reader.Skip(); // the id
            }

            if (reader.NextMessagePackType != MessagePackType.String || reader.ReadStringSequence() is not { } text)
            {
                return false;
            }

            name = text;
            return true;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Reads only the id of a version 1 envelope; null when unreadable or of version 2, which carries no id.</summary>
    public static string? TryReadId(ReadOnlyMemory<byte> body)
    {
        try
        {
            var reader = new MessagePackReader(body);
            return reader.ReadArrayHeader() >= 2 && reader.ReadInt32() == LegacyVersion ? reader.ReadString() : null;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string ReadRequiredString(ref MessagePackReader reader, string field)
    {
        var value = reader.NextMessagePackType == MessagePackType.String ? reader.ReadString() : null;
        return string.IsNullOrEmpty(value)
            ? throw new InvalidEnvelopeException($"malformed envelope: the {field} is missing or not a string")
            : value;
    }

    /// <summary>
    /// Reads Unix milliseconds, or nil. A value outside what DateTimeOffset holds (int64 max, or
    /// microseconds where milliseconds belong, as another producer may write) makes the envelope
    /// invalid, so that the message is dead-lettered with the field named instead of failing later.
    /// </summary>
    private static DateTimeOffset? ReadTime(ref MessagePackReader reader, string field)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var milliseconds = reader.ReadInt64();
        return milliseconds is < MinUnixMilliseconds or > MaxUnixMilliseconds
            ? throw new InvalidEnvelopeException($"malformed envelope: {field} {milliseconds} is not a time in Unix milliseconds (years 0001 to 9999)")
            : DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }
}

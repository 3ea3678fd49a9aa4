using System;
using System.Collections.Generic;
using MessagePack;
using TypedTasks.Serialization;

namespace TypedTasks.Tests;

public sealed class EnvelopeTests
{
    private readonly struct TwoInts(int x, int y) : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(2);
            writer.Write(x);
            writer.Write(y);
        }
    }

    private static readonly Dictionary<string, string> Trace = new() { ["traceparent"] = "00-abc" };

    private static byte[] Sample() => TaskEnvelope.Write(
        new EnvelopeHeader("math.add", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_001_000), null, Trace),
        new TwoInts(2, 3),
        TaskSerializer.Options);

    private static byte[] Legacy(int attempt = 0) => TaskEnvelope.WriteLegacy(
        new LegacyEnvelopeHeader("id-1", "math.add", "default", 3, attempt, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_001_000), null, Trace),
        new TwoInts(2, 3),
        TaskSerializer.Options);

    [Fact]
    public void An_envelope_reads_back_field_for_field()
    {
        var envelope = TaskEnvelope.Read(Sample());
        Assert.Equal(2, envelope.Version);
        Assert.Null(envelope.Id);
        Assert.Equal("math.add", envelope.TaskName);
        Assert.Null(envelope.Queue);
        Assert.Equal(1_700_000_000_123, envelope.EnqueuedAt.ToUnixTimeMilliseconds());
        Assert.Equal(1_700_000_001_000, envelope.Eta!.Value.ToUnixTimeMilliseconds());
        Assert.Null(envelope.ExpiresAt);
        Assert.Equal("00-abc", envelope.Headers!["traceparent"]);
        Assert.Equal(new byte[] { 0x92, 0x02, 0x03 }, envelope.Arguments.ToArray());
    }

    [Fact]
    public void A_version_1_envelope_of_0_1_still_reads_with_its_id_queue_priority_and_attempt()
    {
        var envelope = TaskEnvelope.Read(Legacy(attempt: 2));
        Assert.Equal(1, envelope.Version);
        Assert.Equal("id-1", envelope.Id);
        Assert.Equal("math.add", envelope.TaskName);
        Assert.Equal("default", envelope.Queue);
        Assert.Equal(3, envelope.Priority);
        Assert.Equal(2, envelope.Attempt);
        Assert.Equal(1_700_000_001_000, envelope.Eta!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(new byte[] { 0x92, 0x02, 0x03 }, envelope.Arguments.ToArray());
        Assert.Equal("id-1", TaskEnvelope.TryReadId(Legacy()));
        Assert.Null(TaskEnvelope.TryReadId(Sample()));
    }

    [Fact]
    public void The_task_name_reads_alone_from_either_version_and_not_from_anything_else()
    {
        // Input: a version 2 and a version 1 envelope; then bytes that are no envelope (empty, a
        // bare string, version 3, a version 2 array of the wrong length, a name that is a number).
        // Expected: the name's UTF-8 bytes from both; false for each of the others.
        Assert.True(TaskEnvelope.TryReadTaskNameUtf8(Sample(), out var name));
        Assert.Equal("math.add"u8.ToArray(), System.Buffers.BuffersExtensions.ToArray(name));
        Assert.True(TaskEnvelope.TryReadTaskNameUtf8(Legacy(), out name));
        Assert.Equal(TaskEnvelope.Read(Legacy()).TaskName, System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(name)));
        byte[][] others = [[], [0xA1, 0x78], [0x97, 0x03, 0xA1, 0x78], [0x93, 0x02, 0xA1, 0x78], [0x97, 0x02, 0x05]];
        Assert.All(others, bytes => Assert.False(TaskEnvelope.TryReadTaskNameUtf8(bytes, out _)));
    }

    [Fact]
    public void The_layout_is_the_documented_one()
    {
        // docs/wire-format.md: [2, task, enqueued_ms, eta_ms, expires_ms, headers, args]
        var bytes = Sample();
        Assert.Equal(0x97, bytes[0]); // fixarray of 7
        Assert.Equal(0x02, bytes[1]); // version 2
        Assert.Equal(0xA8, bytes[2]); // fixstr of 8: "math.add"
        Assert.Equal(new byte[] { 0x92, 0x02, 0x03 }, bytes[^3..]);

        // Add(2, 3) with no eta and no headers: 26 bytes, as the docs' example says.
        var plain = TaskEnvelope.Write(new EnvelopeHeader("math.add", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), null, null, null), new TwoInts(2, 3), TaskSerializer.Options);
        Assert.Equal(26, plain.Length);
    }

    [Theory]
    [InlineData(new byte[] { }, "malformed envelope")]
    [InlineData(new byte[] { 0x01 }, "expected a MessagePack array")]
    [InlineData(new byte[] { 0x90 }, "empty array")]
    [InlineData(new byte[] { 0x91, 0xA1, 0x78 }, "the first field is not a version number")]
    [InlineData(new byte[] { 0x91, 0x03 }, "unsupported envelope version 3; this worker reads versions 1 and 2")]
    [InlineData(new byte[] { 0x92, 0x01, 0xA1 }, "version 1 has 11 fields, this one has 2")]
    [InlineData(new byte[] { 0x92, 0x02, 0xA1 }, "version 2 has 7 fields, this one has 2")]
    public void Bytes_that_are_not_an_envelope_are_rejected_with_the_reason(byte[] bytes, string reason)
    {
        var error = Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(bytes));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_of_an_envelope_is_rejected_never_misread()
    {
        foreach (var bytes in new[] { Sample(), Legacy() })
        {
            for (var length = 0; length < bytes.Length; length++)
            {
                Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(bytes.AsMemory(0, length)));
            }
        }
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        var bytes = Sample();
        var longer = new byte[bytes.Length + 1];
        bytes.CopyTo(longer, 0);
        var error = Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(longer));
        Assert.Contains("trailing bytes", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A version 1 envelope written field by field, as a producer in another language might.</summary>
    private static byte[] Raw(int priority = 0, int attempt = 0, long? enqueuedMs = 1_700_000_000_123, long? etaMs = null, long? expiresMs = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(11);
        writer.Write(1);
        writer.Write("id-1");
        writer.Write("math.add");
        writer.Write("default");
        writer.Write(priority);
        writer.Write(attempt);
        foreach (var time in new[] { enqueuedMs, etaMs, expiresMs })
        {
            if (time is { } ms)
            {
                writer.Write(ms);
            }
            else
            {
                writer.WriteNil();
            }
        }

        writer.WriteNil();
        writer.WriteArrayHeader(2);
        writer.Write(2);
        writer.Write(3);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    [Theory]
    [InlineData("enqueued_at", long.MaxValue, null, null)]
    [InlineData("enqueued_at", long.MinValue, null, null)]
    [InlineData("eta", 1_700_000_000_000_000L, 1_700_000_000_000_000L, null)] // microseconds where milliseconds belong
    [InlineData("expires_at", 1_700_000_000_000L, null, long.MaxValue)]
    public void A_time_out_of_range_makes_the_envelope_invalid_and_names_the_field(string field, long enqueuedMs, long? etaMs, long? expiresMs)
    {
        // Before, such a time threw ArgumentOutOfRangeException outside the reader's catch, and the
        // worker put the message back and fetched it again at full speed, for ever.
        var bytes = Raw(enqueuedMs: field == "enqueued_at" ? enqueuedMs : 1_700_000_000_123, etaMs: etaMs, expiresMs: expiresMs);
        var error = Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(bytes));
        Assert.Contains($"{field} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unix milliseconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Priority_attempt_and_enqueued_at_are_checked()
    {
        Assert.Contains("priority 10", Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(Raw(priority: 10))).Message, StringComparison.Ordinal);
        Assert.Contains("priority -1", Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(Raw(priority: -1))).Message, StringComparison.Ordinal);
        Assert.Contains("attempt -1", Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(Raw(attempt: -1))).Message, StringComparison.Ordinal);
        Assert.Contains("enqueued_at is nil", Assert.Throws<InvalidEnvelopeException>(() => TaskEnvelope.Read(Raw(enqueuedMs: null))).Message, StringComparison.Ordinal);

        // The edges of the range still read.
        Assert.Equal(DateTimeOffset.MaxValue.ToUnixTimeMilliseconds(), TaskEnvelope.Read(Raw(etaMs: 253_402_300_799_999)).Eta!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(9, TaskEnvelope.Read(Raw(priority: 9)).Priority);
    }

    [Fact]
    public void A_result_record_reads_back_with_its_result_and_error()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        var succeeded = new TaskInfo("t1", "math.add", TaskState.Succeeded, 2, at, null, MessagePackSerializer.Serialize(5));
        var read = TaskInfoCodec.Read("t1", TaskInfoCodec.Write(succeeded));
        Assert.Equal(succeeded with { Result = default }, read with { Result = default });
        Assert.Equal(5, MessagePackSerializer.Deserialize<int>(read.Result));

        var failed = new TaskInfo("t2", "math.add", TaskState.Failed, 0, at, new TaskError("System.Exception", "boom", "at X"), default);
        Assert.Equal(failed with { Result = default }, TaskInfoCodec.Read("t2", TaskInfoCodec.Write(failed)) with { Result = default });
    }

    [Theory]
    [InlineData(1, long.MaxValue, "updated_at 9223372036854775807 is not a time")]
    [InlineData(1, 1_800_000_000_000_000, "updated_at 1800000000000000 is not a time")] // microseconds
    [InlineData(99, 1_800_000_000_000, "state 99 is not a TaskState")]
    public void A_result_record_with_a_value_out_of_range_is_reported_as_not_a_record(int state, long updatedMs, string reason)
    {
        // Before, an out-of-range updated_at surfaced as a raw ArgumentOutOfRangeException (and was
        // swallowed while waiting); a state outside TaskState was taken as it was.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(1);
        writer.Write(state);
        writer.Write("math.add");
        writer.Write(1);
        writer.Write(updatedMs);
        writer.WriteNil();
        writer.WriteNil();
        writer.Flush();
        var error = Assert.Throws<System.IO.InvalidDataException>(() => TaskInfoCodec.Read("t3", buffer.WrittenMemory));
        Assert.Contains("The stored state of task t3 is not a TypedTasks result record", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_still_under_way_is_told_from_its_first_bytes_and_anything_else_goes_to_the_decoder()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        foreach (var state in Enum.GetValues<TaskState>())
        {
            var record = TaskInfoCodec.Write(new TaskInfo("t", "math.add", state, 0, at, null, default));
            Assert.Equal(!state.IsFinal(), TaskInfoCodec.IsUnfinished(record));
        }

        // Another version, another shape, too short: not "unfinished", so the decoder rejects them.
        Assert.False(TaskInfoCodec.IsUnfinished([0x97, 0x02, 0x00, 0xa0]));
        Assert.False(TaskInfoCodec.IsUnfinished([0x96, 0x01, 0x00, 0xa0]));
        Assert.False(TaskInfoCodec.IsUnfinished([0x97, 0x01]));
        Assert.Throws<System.IO.InvalidDataException>(() => TaskInfoCodec.Read("t", new byte[] { 0x97, 0x02, 0x00, 0xa0 }));
    }

    [Fact]
    public void The_serializer_refuses_to_name_types_from_the_payload()
    {
        // A typeless payload (ext type 100 carries a type name) is refused, never instantiated.
        Assert.Equal(MessagePackSecurity.UntrustedData.GetType(), TaskSerializer.Options.Security.GetType());
        Assert.True(TaskSerializer.Options.Security.MaximumObjectGraphDepth <= MessagePackSecurity.UntrustedData.MaximumObjectGraphDepth);
        Assert.IsNotType<MessagePack.Resolvers.TypelessContractlessStandardResolver>(TaskSerializer.Options.Resolver);
        var typeless = MessagePackSerializer.Typeless.Serialize(new Uri("http://127.0.0.1/"));
        Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<object>(typeless, TaskSerializer.Options));
    }
}

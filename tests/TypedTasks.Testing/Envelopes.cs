using System;
using MessagePack;
using TypedTasks.Serialization;

namespace TypedTasks.Testing;

/// <summary>Envelopes as the client writes them, for tests that hand tasks to a store directly.</summary>
public static class Envelopes
{
    /// <summary>The current envelope (docs/wire-format.md) of <paramref name="task"/> with one string argument.</summary>
    public static byte[] Of(string task, string argument)
        => TaskEnvelope.Write(new EnvelopeHeader(task, DateTimeOffset.UtcNow, null, null, null), new OneString(argument), TaskSerializer.Options);

    private readonly struct OneString(string value) : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(1);
            writer.Write(value);
        }
    }
}

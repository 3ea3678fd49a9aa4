using System;
using System.Buffers;
using System.Linq;
using System.Threading.Tasks;
using MessagePack;
using StackExchange.Redis;
using TypedTasks.Store;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>Envelopes and raw keys for the Redis task store tests.</summary>
internal static class StoreTestKit
{
    /// <summary>A version-1 envelope of <paramref name="task"/> with one integer argument, as the 0.1 client wrote them.</summary>
    public static byte[] Envelope(string task, int argument = 1, string? id = null, string queue = "q", int priority = 0)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(11);
        writer.Write(1);
        writer.Write(id ?? Guid.NewGuid().ToString());
        writer.Write(task);
        writer.Write(queue);
        writer.Write(priority);
        writer.Write(0);
        writer.Write(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteArrayHeader(1);
        writer.Write(argument);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A small envelope (under the 64-byte inline limit with its record header).</summary>
    public static byte[] Small(int argument = 1) => [0x92, 0xa3, (byte)'A', (byte)'d', (byte)'d', 0x91, (byte)(argument & 0x7f)];

    /// <summary>
    /// A version-2 envelope of <paramref name="length"/> bytes (a task name padded to fit, one
    /// integer argument): 40 bytes make a pending record of 62, inline, as a typical small task's.
    /// </summary>
    public static byte[] VersionTwo(int length = 40, int argument = 1)
    {
        // array(7), 2, name (a 1-byte header up to 31 bytes, else 2), ms (9 bytes), nil, nil, nil, [argument]: 17 bytes and the name.
        var nameLength = length - 17 > 31 ? length - 18 : length - 17;
        var name = "Orders.Add".PadRight(nameLength, 'x');
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(2);
        writer.Write(name);
        writer.Write((ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteArrayHeader(1);
        writer.Write(argument & 0x7f);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static TaskToEnqueue New(byte[]? envelope = null, int priority = 0, DateTimeOffset? due = null, string? chosen = null)
        => new(envelope ?? Envelope("Add"), priority, due, chosen);

    public static RedisKey Key(string prefix, string queue, string suffix) => $"{prefix}:{{{queue}}}:{suffix}";

    /// <summary>The sequence of an id the store made, <c>&lt;epoch&gt;-&lt;seq&gt;@&lt;queue&gt;</c>.</summary>
    public static long Sequence(string id) => long.Parse(id[(id.IndexOf('-', StringComparison.Ordinal) + 1)..id.LastIndexOf('@')], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The bucket hash that holds the record of <paramref name="id"/> (field: its sequence).</summary>
    public static RedisKey Bucket(string prefix, string queue, string id) => Key(prefix, queue, "t:" + (Sequence(id) >> 7).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>How many times <paramref name="server"/> ran <paramref name="command"/> since its stats were reset (INFO commandstats).</summary>
    public static async Task<long> CallsAsync(IServer server, string command)
    {
        var line = (await server.InfoAsync("commandstats")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "cmdstat_" + command);
        return line.Value is null ? 0 : long.Parse(line.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

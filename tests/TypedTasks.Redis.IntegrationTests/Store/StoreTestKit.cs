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
    /// A version-2 envelope of <paramref name="length"/> bytes (at least 27; a length of 33 gives
    /// 32, the one length a string argument cannot pad exactly) of task
    /// <c>Orders.Add</c>, with the argument and a string argument padded to fit: 40 bytes make a
    /// pending record of 62, inline, as a typical small task's. (The length is in the arguments: a
    /// long name would be kept in the queue's name table, leaving the record short.)
    /// </summary>
    public static byte[] VersionTwo(int length = 40, int argument = 1)
    {
        // array(7), 2, "Orders.Add" (11 bytes), ms (9 bytes), nil, nil, nil, [argument, pad]: 27 bytes and the pad.
        var rest = length - 27;
        if (rest < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "at least 27 bytes");
        }

        // A string header of 1 byte up to 31 characters, else 2.
        return Named("Orders.Add", argument, rest == 0 ? null : new string('x', rest - 1 <= 31 ? rest - 1 : rest - 2));
    }

    /// <summary>A version-2 envelope of task <paramref name="task"/> with one small argument, and <paramref name="pad"/> as a second when given.</summary>
    public static byte[] Named(string task, int argument = 1, string? pad = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(2);
        writer.Write(task);
        writer.Write((ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteArrayHeader(pad is null ? 1 : 2);
        writer.Write(argument & 0x7f);
        if (pad is not null)
        {
            writer.Write(pad);
        }

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

    /// <summary>How many subscribers the server of <paramref name="db"/> counts on <paramref name="channel"/> (PUBSUB NUMSUB).</summary>
    public static async Task<long> SubscribersAsync(IDatabase db, string channel)
        => (long)((RedisResult[])(await db.ExecuteAsync("PUBSUB", "NUMSUB", channel))!)[1];

    /// <summary>How many times <paramref name="server"/> ran <paramref name="command"/> since its stats were reset (INFO commandstats).</summary>
    public static async Task<long> CallsAsync(IServer server, string command)
    {
        var line = (await server.InfoAsync("commandstats")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "cmdstat_" + command);
        return line.Value is null ? 0 : long.Parse(line.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

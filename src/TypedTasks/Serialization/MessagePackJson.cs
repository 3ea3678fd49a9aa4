using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MessagePack;

namespace TypedTasks.Serialization;

/// <summary>
/// Shows MessagePack (arguments, results, dead letters) as JSON for people: the CLI and any other
/// viewer. The depth is bounded, because a dead letter may be anything a producer sent: a value
/// nested deeper than <see cref="MaxDepth"/> is shown as a marker string, and the rest is shown.
/// The walk past the bound is iterative, so no input can exhaust the stack.
/// </summary>
internal static class MessagePackJson
{
    /// <summary>The deepest array or map shown; deeper ones become <see cref="DeepMarker"/>.</summary>
    public const int MaxDepth = 64;

    /// <summary>What stands in for a value nested deeper than <see cref="MaxDepth"/>.</summary>
    public static readonly string DeepMarker = $"\u2026(nested deeper than {MaxDepth})";

    // Shown on terminals and in tools as text, never inside HTML or a script: "…" and non-Latin
    // text stay readable instead of becoming \uXXXX.
    private static readonly JavaScriptEncoder ForPeople = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The JSON text of one MessagePack value; bytes that end early or are not MessagePack give a JSON string that says so.</summary>
    public static string ToJson(ReadOnlyMemory<byte> messagePack)
    {
        var buffer = new ArrayBufferWriter<byte>(messagePack.Length + 16);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = MaxDepth + 1, Encoder = ForPeople }))
        {
            var reader = new MessagePackReader(messagePack);
            try
            {
                WriteValue(ref reader, json, 1);
            }
            catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
            {
                // Bytes that end early or are not MessagePack: said in words, never an exception.
                return JsonSerializer.Serialize($"(not readable as MessagePack: {ex.Message})");
            }
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The JSON text of a task's arguments (one MessagePack array): an object keyed by
    /// <paramref name="names"/> when they are given and match the array's length, else the array
    /// as <see cref="ToJson"/> shows it. <paramref name="named"/> says which one it is.
    /// </summary>
    public static string ArgumentsToJson(ReadOnlyMemory<byte> arguments, IReadOnlyList<string>? names, out bool named)
    {
        named = false;
        if (names is null || !HasArrayHeader(arguments, names.Count))
        {
            return ToJson(arguments);
        }

        var buffer = new ArrayBufferWriter<byte>(arguments.Length + 16);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = MaxDepth + 1, Encoder = ForPeople }))
        {
            var reader = new MessagePackReader(arguments);
            try
            {
                reader.ReadArrayHeader();
                json.WriteStartObject();
                foreach (var name in names)
                {
                    // The object stands where the array was: its members are one level down, as the array's were.
                    json.WritePropertyName(name);
                    WriteValue(ref reader, json, 2);
                }

                json.WriteEndObject();
            }
            catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
            {
                return JsonSerializer.Serialize($"(not readable as MessagePack: {ex.Message})");
            }
        }

        named = true;
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool HasArrayHeader(ReadOnlyMemory<byte> messagePack, int count)
    {
        try
        {
            var reader = new MessagePackReader(messagePack);
            return reader.NextMessagePackType == MessagePackType.Array && reader.ReadArrayHeader() == count;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The same as <see cref="ToJson"/>, parsed, for a document that embeds it.</summary>
    public static JsonElement ToElement(ReadOnlyMemory<byte> messagePack)
    {
        using var document = JsonDocument.Parse(ToJson(messagePack), new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
        return document.RootElement.Clone();
    }

    private static void WriteValue(ref MessagePackReader reader, Utf8JsonWriter json, int depth)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                json.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    json.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    json.WriteNumberValue(reader.ReadInt64());
                }

                break;
            case MessagePackType.Float:
                var number = reader.ReadDouble();
                if (double.IsFinite(number))
                {
                    json.WriteNumberValue(number);
                }
                else
                {
                    json.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
                }

                break;
            case MessagePackType.String:
                json.WriteStringValue(reader.ReadString());
                break;
            case MessagePackType.Binary:
                json.WriteBase64StringValue(reader.ReadBytes()!.Value.ToArray());
                break;
            case MessagePackType.Extension:
                WriteExtension(ref reader, json);
                break;
            case MessagePackType.Array when depth > MaxDepth:
            case MessagePackType.Map when depth > MaxDepth:
                SkipIteratively(ref reader);
                json.WriteStringValue(DeepMarker);
                break;
            case MessagePackType.Array:
                var count = reader.ReadArrayHeader();
                json.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    WriteValue(ref reader, json, depth + 1);
                }

                json.WriteEndArray();
                break;
            case MessagePackType.Map:
                var pairs = reader.ReadMapHeader();
                json.WriteStartObject();
                for (var i = 0; i < pairs; i++)
                {
                    json.WritePropertyName(KeyText(ref reader));
                    WriteValue(ref reader, json, depth + 1);
                }

                json.WriteEndObject();
                break;
            default:
                throw new MessagePackSerializationException($"unexpected MessagePack code {reader.NextCode}");
        }
    }

    /// <summary>A map key as a JSON property name: a string as it is, any other value as its JSON text.</summary>
    private static string KeyText(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType == MessagePackType.String)
        {
            return reader.ReadString() ?? string.Empty;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ForPeople }))
        {
            // A key that is itself an array or map is shown from the deepest level, as a marker.
            WriteValue(ref reader, json, MaxDepth);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteExtension(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        var header = reader.CreatePeekReader().ReadExtensionFormatHeader();
        if (header is { TypeCode: ReservedMessagePackExtensionTypeCode.DateTime, Length: 4 or 8 or 12 })
        {
            json.WriteStringValue(reader.ReadDateTime().ToString("O", CultureInfo.InvariantCulture));
            return;
        }

        var extension = reader.ReadExtensionFormat();
        json.WriteStartObject();
        json.WriteNumber("ext", extension.TypeCode);
        json.WriteBase64String("data", extension.Data.ToArray());
        json.WriteEndObject();
    }

    /// <summary>Skips one value of any depth with a counter instead of recursion.</summary>
    private static void SkipIteratively(ref MessagePackReader reader)
    {
        long remaining = 1;
        while (remaining > 0)
        {
            remaining--;
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                    remaining += reader.ReadArrayHeader();
                    break;
                case MessagePackType.Map:
                    remaining += 2L * reader.ReadMapHeader();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }
}

using System;
using System.Buffers;
using System.Text.Json;
using MessagePack;
using TypedTasks.Serialization;

namespace TypedTasks.Tests;

/// <summary>MessagePack shown as JSON for people: every kind of value, and a bounded depth.</summary>
public sealed class MessagePackJsonTests
{
    private delegate void Writing(ref MessagePackWriter writer);

    private static byte[] Pack(Writing write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Every_kind_of_value_becomes_JSON()
    {
        var bytes = Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(9);
            w.WriteNil();
            w.Write(true);
            w.Write(-5);
            w.Write(ulong.MaxValue);
            w.Write(1.5);
            w.Write("text");
            w.Write(new byte[] { 1, 2, 3 });
            w.WriteMapHeader(2);
            w.Write("name");
            w.Write(1);
            w.Write(7);
            w.Write(double.NaN);
            w.Write(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        });

        Assert.Equal("""[null,true,-5,18446744073709551615,1.5,"text","AQID",{"name":1,"7":"NaN"},"2026-01-02T03:04:05.0000000Z"]""", MessagePackJson.ToJson(bytes));
    }

    [Fact]
    public void Arrays_deeper_than_the_bound_become_a_marker_and_the_rest_is_shown()
    {
        // An array of two: arrays nested to `levels` in all, then a string.
        byte[] Nested(int levels) => Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            for (var i = 2; i < levels; i++)
            {
                w.WriteArrayHeader(1);
            }

            w.WriteArrayHeader(0);
            w.Write("after");
        });

        var atBound = MessagePackJson.ToElement(Nested(MessagePackJson.MaxDepth)).GetRawText();
        Assert.DoesNotContain("nested deeper", atBound, StringComparison.Ordinal);
        Assert.Equal(MessagePackJson.MaxDepth, atBound.Split('[').Length - 1);
        Assert.Contains("nested deeper", MessagePackJson.ToJson(Nested(MessagePackJson.MaxDepth + 1)), StringComparison.Ordinal);

        var past = MessagePackJson.ToJson(Nested(200_000));
        Assert.Contains("\"\u2026(nested deeper than 64)\"", past, StringComparison.Ordinal);
        Assert.EndsWith(",\"after\"]", past, StringComparison.Ordinal);
        Assert.Equal(MessagePackJson.MaxDepth, past.Split('[').Length - 1);
    }

    [Fact]
    public void Bytes_that_are_not_MessagePack_give_a_string_that_says_so()
    {
        var json = MessagePackJson.ToJson(new byte[] { 0x93, 0x01 });
        Assert.StartsWith("\"(not readable as MessagePack:", json, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, MessagePackJson.ToElement(new byte[] { 0xC1 }).ValueKind);
    }

    [Fact]
    public void Arguments_are_keyed_by_name_only_when_the_names_match_the_array()
    {
        var two = Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write("a@b.c");
            w.WriteNil();
        });

        Assert.Equal("""{"to":"a@b.c","cc":null}""", MessagePackJson.ArgumentsToJson(two, ["to", "cc"], out var named));
        Assert.True(named);
        Assert.Equal("""["a@b.c",null]""", MessagePackJson.ArgumentsToJson(two, ["to"], out named));
        Assert.False(named);
        Assert.Equal("""["a@b.c",null]""", MessagePackJson.ArgumentsToJson(two, null, out named));
        Assert.False(named);

        // The header says two, the bytes end after one: said in words, not thrown, not named.
        var cut = two.AsSpan(0, two.Length - 1).ToArray();
        Assert.StartsWith("\"(not readable as MessagePack", MessagePackJson.ArgumentsToJson(cut, ["to", "cc"], out named), StringComparison.Ordinal);
        Assert.False(named);
    }
}

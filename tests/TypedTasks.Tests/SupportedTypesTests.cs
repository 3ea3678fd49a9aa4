using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Text;
using MessagePack;

namespace TypedTasks.Tests;

/// <summary>
/// Every framework type the generator accepts without a diagnostic (TT0005/TT0006) must really
/// round-trip through the task serializer settings.
/// </summary>
public sealed class SupportedTypesTests
{
    private static T RoundTrip<T>(T value) => MessagePackSerializer.Deserialize<T>(MessagePackSerializer.Serialize(value, TaskSerializer.Options), TaskSerializer.Options);

    [Fact]
    public void The_framework_types_the_generator_accepts_round_trip()
    {
        Assert.Equal(Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff"), RoundTrip(Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff")));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 1, 2, 3, TimeSpan.FromHours(2)), RoundTrip(new DateTimeOffset(2026, 11, 27, 1, 2, 3, TimeSpan.FromHours(2))));
        Assert.Equal(TimeSpan.FromTicks(123456789), RoundTrip(TimeSpan.FromTicks(123456789)));
        Assert.Equal(new Uri("https://example.org/a?b=1"), RoundTrip(new Uri("https://example.org/a?b=1")));
        Assert.Equal(new Version(1, 2, 3, 4), RoundTrip(new Version(1, 2, 3, 4)));
        Assert.Equal(BigInteger.Parse("123456789012345678901234567890"), RoundTrip(BigInteger.Parse("123456789012345678901234567890")));
        Assert.Equal(new Complex(1.5, -2), RoundTrip(new Complex(1.5, -2)));
        Assert.Equal("abc", RoundTrip(new StringBuilder("abc")).ToString());
        Assert.Equal([true, false, true], RoundTrip(new BitArray(new[] { true, false, true })).Cast<bool>());
        Assert.Equal(new DateOnly(2026, 11, 27), RoundTrip(new DateOnly(2026, 11, 27)));
        Assert.Equal(new TimeOnly(13, 14, 15), RoundTrip(new TimeOnly(13, 14, 15)));
        Assert.Equal(123.456m, RoundTrip(123.456m));
        Assert.Equal((1, "a"), RoundTrip((1, "a")));
        Assert.Equal(new KeyValuePair<string, int>("k", 1), RoundTrip(new KeyValuePair<string, int>("k", 1)));
        Assert.Equal(new SortedDictionary<string, int> { ["a"] = 1 }, RoundTrip(new SortedDictionary<string, int> { ["a"] = 1 }));
        Assert.Equal(new HashSet<int> { 1, 2 }, RoundTrip(new HashSet<int> { 1, 2 }));
        Assert.Equal([1, 2], RoundTrip<IReadOnlyList<int>>([1, 2]));
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1 }, RoundTrip<IReadOnlyDictionary<string, int>>(new Dictionary<string, int> { ["a"] = 1 }));
        Assert.Equal(new int[,] { { 1, 2 }, { 3, 4 } }, RoundTrip(new int[,] { { 1, 2 }, { 3, 4 } }));
    }
}

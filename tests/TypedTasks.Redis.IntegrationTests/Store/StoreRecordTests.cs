using System;
using System.IO;
using TypedTasks.Redis.Store;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>Records read back from bytes a broken or hostile writer may have left.</summary>
public sealed class StoreRecordTests
{
    [Fact]
    public void An_updated_time_past_the_year_9999_makes_the_record_unreadable_not_a_raw_range_error()
    {
        // Input: a pending record whose 48-bit updated time is all ones (year 10,889). Expected:
        // InvalidDataException naming the field, which the store turns into the task's failure
        // reason, instead of ArgumentOutOfRangeException from DateTimeOffset.
        var bytes = new byte[22];
        bytes.AsSpan(8, 6).Fill(0xFF);
        var error = Assert.Throws<InvalidDataException>(() => StoreRecord.Read("1-1@q", bytes));
        Assert.Contains("updated time 281474976710655 is not a time", error.Message, StringComparison.Ordinal);

        // The last millisecond of 9999 still reads.
        var last = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
        bytes[8] = (byte)(last >> 40);
        bytes[9] = (byte)(last >> 32);
        bytes[10] = (byte)(last >> 24);
        bytes[11] = (byte)(last >> 16);
        bytes[12] = (byte)(last >> 8);
        bytes[13] = (byte)last;
        Assert.Equal(last, StoreRecord.Read("1-1@q", bytes).UpdatedAt.ToUnixTimeMilliseconds());
    }
}

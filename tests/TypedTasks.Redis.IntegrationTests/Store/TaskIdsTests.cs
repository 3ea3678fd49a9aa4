using TypedTasks.Redis.Store;
using Xunit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>The run order a lease carries, read from the ids the store makes (no server needed).</summary>
public sealed class TaskIdsTests
{
    [Theory]
    [InlineData("1a2b3c4d-17@q", 17)]
    [InlineData("00000000-1@some.queue", 1)]
    [InlineData("w5f3a9c0d1e2b3a4.0.12@q", 0)] // a workflow member's chosen id
    [InlineData("order-42@q", 0)] // a chosen id: no 8-hex-digit epoch before the dash
    [InlineData("1a2b3c4g-17@q", 0)] // not hex
    [InlineData("1a2b3c4d-17x@q", 0)] // not a number after the dash
    [InlineData("1a2b3c4d-@q", 0)]
    [InlineData("no-queue", 0)]
    public void A_store_made_id_gives_its_sequence_and_any_other_id_none(string id, long expected)
        => Assert.Equal(expected, TaskIds.RunOrderOf(id));
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Scheduling;
using TypedTasks.Testing.StoreConformance;

namespace TypedTasks.Tests.Scheduling;

/// <summary>
/// Fire times across both daylight-saving changes of Europe/Berlin and America/New_York, the way
/// Cronos defines them, with a worker's firing driven by a fake clock from each next fire time
/// to the next: a fire time in the spring-forward gap runs at the first valid time after it, a
/// daily fire time in the fall-back hour runs once, an interval runs at each instant of it.
/// </summary>
public sealed class DaylightSavingTests
{
    private const string Queue = "dst";

    public static TheoryData<string, string, string, string, string[]> Cases() => new()
    {
        // Berlin springs forward on 2026-03-29 at 02:00 CET (01:00Z): 02:30 does not exist that night.
        { "Europe/Berlin", "30 2 * * *", "2026-03-28T00:00Z", "2026-03-31T00:00Z", ["2026-03-28T01:30Z", "2026-03-29T01:00Z", "2026-03-30T00:30Z"] },
        // Berlin falls back on 2026-10-25 at 03:00 CEST (01:00Z): 02:30 comes twice; it runs once, at the first.
        { "Europe/Berlin", "30 2 * * *", "2026-10-24T00:00Z", "2026-10-27T00:00Z", ["2026-10-24T00:30Z", "2026-10-25T00:30Z", "2026-10-26T01:30Z"] },
        // An interval runs at every instant of the repeated hour.
        { "Europe/Berlin", "*/30 2 * * *", "2026-10-24T23:00Z", "2026-10-25T03:00Z", ["2026-10-25T00:00Z", "2026-10-25T00:30Z", "2026-10-25T01:00Z", "2026-10-25T01:30Z"] },
        // New York springs forward on 2026-03-08 at 02:00 EST (07:00Z).
        { "America/New_York", "30 2 * * *", "2026-03-07T00:00Z", "2026-03-10T00:00Z", ["2026-03-07T07:30Z", "2026-03-08T07:00Z", "2026-03-09T06:30Z"] },
        // New York falls back on 2026-11-01 at 02:00 EDT (06:00Z): 01:30 comes twice; it runs once.
        { "America/New_York", "30 1 * * *", "2026-10-31T00:00Z", "2026-11-03T00:00Z", ["2026-10-31T05:30Z", "2026-11-01T05:30Z", "2026-11-02T06:30Z"] },
        // Every hour at :00 across the New York spring gap: 02:00 does not exist, 03:00 runs once.
        { "America/New_York", "0 * * * *", "2026-03-08T05:30Z", "2026-03-08T09:30Z", ["2026-03-08T06:00Z", "2026-03-08T07:00Z", "2026-03-08T08:00Z", "2026-03-08T09:00Z"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Fires_follow_the_zone(string zone, string cron, string from, string until, string[] expected)
    {
        var start = DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse(until, System.Globalization.CultureInfo.InvariantCulture);
        var clock = new FakeTimeProvider(start);
        await using var store = new InMemoryTaskStore(timeProvider: clock);
        var task = Firers.Task("dst.run", Queue);
        var firers = new Firers(store, [clock], [task], Queue);
        await new TaskSchedules(store, clock).UpsertAsync("dst", TaskCall.Bind(task, ScheduleDefinition.NoArguments, new TaskClient(store, clock)), cron, TimeZoneInfo.FindSystemTimeZoneById(zone));

        // Like a worker: sleep to the next fire time, fire, again; never before its time.
        var rounds = 0;
        while (await store.GetScheduleAsync("dst") is { NextFireAt: { } next } && next < end && rounds++ < 100)
        {
            await firers.RoundAsync(0);
            Assert.Equal(next, (await store.GetScheduleAsync("dst"))!.NextFireAt);
            clock.SetUtcNow(next + TimeSpan.FromMilliseconds(20));
            await firers.RoundAsync(0);
        }

        var fired = await Firers.FiredAsync(store, Queue);
        Assert.Equal(expected.Select(e => DateTimeOffset.Parse(e, System.Globalization.CultureInfo.InvariantCulture)), fired.Select(f => f.ScheduledFor));
    }

    [Fact]
    public void The_zones_of_these_cases_are_known_here()
    {
        // Without them the theory above would test nothing but an exception.
        Assert.Equal(TimeSpan.FromHours(1), TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin").GetUtcOffset(new DateTime(2026, 1, 15, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Equal(TimeSpan.FromHours(-4), TimeZoneInfo.FindSystemTimeZoneById("America/New_York").GetUtcOffset(new DateTime(2026, 7, 15, 0, 0, 0, DateTimeKind.Utc)));
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Redis.Store;
using TypedTasks.Testing;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// On a Redis Cluster the schedules live on one node, the wake channel's subscription may be on
/// another: the announcements of their changes reach it all the same (a script's PUBLISH goes to
/// the whole cluster).
/// </summary>
public sealed class ClusterScheduleFeedTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_schedule_watch_hears_an_upsert_a_pause_a_trigger_and_a_remove_made_by_another_store()
    {
        // Input: a watch on one store of a 3-master Cluster; another store upserts a schedule,
        // pauses it, triggers it and removes it, one after another once the last was heard.
        // Expected: the watch is called for each (4 calls).
        var prefix = RedisHost.NewPrefix();
        await using var store = await RedisTaskStore.ConnectAsync(cluster.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        await using var other = await RedisTaskStore.ConnectAsync(cluster.Endpoint, new RedisTransportOptions { KeyPrefix = prefix });
        var calls = 0;
        await using var watch = await store.WatchScheduleChangesAsync(() => Interlocked.Increment(ref calls));
        var at = DateTimeOffset.UtcNow.AddDays(1);
        Func<Task>[] changes =
        [
            () => other.UpsertScheduleAsync("c", "definition", at).AsTask(),
            () => other.SetPausedAsync("c", true, null).AsTask(),
            () => other.RequestTriggerAsync("c", at).AsTask(),
            () => other.RemoveScheduleAsync("c").AsTask(),
        ];

        for (var i = 0; i < changes.Length; i++)
        {
            await changes[i]();
            var expected = i + 1;
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == expected), $"the call for change {expected}", Bound);
        }
    }
}

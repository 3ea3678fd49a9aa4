using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using TypedTasks.Transport;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// The hand-off with a primary and a replica in the connection: a worker's subscription may sit
/// on the replica, where the primary's PUBSUB NUMSUB does not count it, so an enqueue does not ask.
/// </summary>
public sealed class ReplicaHandOffTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _prefix = "rh" + Guid.NewGuid().ToString("N")[..8];
    private RedisServer _primary = null!;
    private RedisServer _replica = null!;

    public async Task InitializeAsync()
    {
        _primary = await RedisServer.StartAsync();
        _replica = await RedisServer.StartAsync(extraArguments: ["--replicaof", "127.0.0.1", _primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await using var probe = await ConnectionMultiplexer.ConnectAsync(_replica.Endpoint + ",allowAdmin=true");
        await Poll.UntilAsync(
            async () => (await probe.GetServer(_replica.Endpoint).InfoAsync("replication")).SelectMany(g => g).Any(kv => kv.Key == "master_link_status" && kv.Value == "up"),
            "the replica is linked to its primary", Bound);
    }

    public async Task DisposeAsync()
    {
        await _replica.DisposeAsync();
        await _primary.DisposeAsync();
    }

    private async Task<(RedisTaskStore Store, ConnectionMultiplexer Connection)> OpenAsync(TimeSpan? lease = null)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync($"{_primary.Endpoint},{_replica.Endpoint}");
        var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = _prefix, IdleFetchInterval = TimeSpan.FromMinutes(1), HeartbeatInterval = TimeSpan.FromMilliseconds(200), LeaseDuration = lease });
        return (store, connection);
    }

    [Fact]
    public async Task With_a_replica_in_the_connection_an_enqueue_hands_to_an_idle_entry_without_asking_who_listens()
    {
        // Input: a connection naming a primary and its replica; a worker (lease 1 s) registered
        // idle, whose connection then breaks for good, its subscription gone from the primary;
        // a task enqueued. Expected: the task is handed (Started), as on a Cluster: with a replica
        // the enqueue does not take the primary's count of 0 for a worker gone; it comes back by
        // recovery once its lease expired and runs once elsewhere (fence 2).
        var (dead, deadConnection) = await OpenAsync(lease: TimeSpan.FromSeconds(1));
        var (producer, producerConnection) = await OpenAsync();
        var (rescuer, rescuerConnection) = await OpenAsync();
        await using var admin = await _primary.ConnectAsync();
        try
        {
            await dead.HeartbeatAsync(new WorkerDescription(["r"], 4, new WorkerStatus()), []);
            using var killed = new CancellationTokenSource();
            var waiting = dead.FetchAsync(["r"], 4, killed.Token).AsTask();
            await Poll.UntilAsync(async () => await admin.GetDatabase().HashLengthAsync(Key(_prefix, "r", "idle")) == 1, "the worker is registered idle", Bound);
            var hand = $"{_prefix}:store:hand:{(await admin.GetDatabase().HashKeysAsync(Key(_prefix, "r", "idle"))).Single()}";
            await deadConnection.CloseAsync(allowCommandsToComplete: false);
            await Poll.UntilAsync(async () => await SubscribersAsync(admin.GetDatabase(), hand) == 0, "the worker's subscription is gone", Bound);

            var id = await producer.EnqueueAsync("r", New(Small(3)));
            Assert.Equal(TaskState.Started, (await producer.GetAsync(id))!.State);
            await Poll.UntilAsync(async () => await rescuer.RecoverAsync(["r"]) == 1, "the handed task is recovered", Bound);
            using var cts = new CancellationTokenSource(Bound);
            var lease = Assert.Single(await rescuer.FetchAsync(["r"], 4, cts.Token));
            Assert.Equal((id, 2L), (lease.Id, lease.Fence));
            Assert.True(await rescuer.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
            await killed.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => waiting.WaitAsync(Bound));
        }
        finally
        {
            await rescuer.DisposeAsync();
            await producer.DisposeAsync();
            await dead.DisposeAsync();
            await rescuerConnection.DisposeAsync();
            await producerConnection.DisposeAsync();
            await deadConnection.DisposeAsync();
        }
    }
}

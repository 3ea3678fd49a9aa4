using System;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using Xunit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// Tests of one Redis task store under a key prefix of their own, on the server or Cluster a
/// subclass names: the connection, the store and the raw database to look at its keys.
/// </summary>
public abstract class OneStoreTests(string prefixStart) : IAsyncLifetime
{
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    protected abstract string Endpoint { get; }

    protected string Prefix { get; } = prefixStart + Guid.NewGuid().ToString("N")[..8];

    protected ConnectionMultiplexer Connection { get; private set; } = null!;

    protected RedisTaskStore Store { get; private set; } = null!;

    protected IDatabase Raw => Connection.GetDatabase();

    public async Task InitializeAsync()
    {
        Connection = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        Store = new RedisTaskStore(Connection, new RedisTransportOptions { KeyPrefix = Prefix, IdleFetchInterval = TimeSpan.FromMilliseconds(300) }, TimeSpan.FromMinutes(10));
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await Connection.DisposeAsync();
    }

    /// <summary>The key <paramref name="suffix"/> of <paramref name="queue"/> under this test's prefix.</summary>
    protected RedisKey K(string queue, string suffix) => StoreTestKit.Key(Prefix, queue, suffix);
}

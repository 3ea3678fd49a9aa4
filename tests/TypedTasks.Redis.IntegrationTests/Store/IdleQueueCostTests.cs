using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using Xunit.Abstractions;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// What idle queues cost inside the scripts (INFO commandstats): queues that have run a task and
/// now have nothing pending, scheduled or retrying. Counts commands, not time.
/// </summary>
public sealed class IdleQueueCostTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public async Task An_idle_queue_costs_two_commands_per_promote_and_one_per_fetch_and_recovery(int n)
    {
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "ip" });
        var queues = Enumerable.Range(0, n).Select(i => "q" + i).ToArray();
        foreach (var q in queues)
        {
            await store.EnqueueAsync(q, new TaskToEnqueue(Small(), 0));
            var lease = Assert.Single(await store.FetchAsync([q], 1, CancellationToken.None));
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        }

        var db = connection.GetDatabase();
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        for (var i = 0; i < 10; i++)
        {
            await store.PromoteDueAsync(queues);
        }

        var (promoteCalls, promoteCommands, promoteText) = await StatsAsync(db);
        output.WriteLine($"{n} queues, promote: {promoteText}");
        Assert.Equal(10, promoteCalls);
        Assert.Equal(10 * 2 * n, promoteCommands);
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            while (true)
            {
                await store.FetchAsync(queues, 64, cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }

        var (fetchCalls, fetchCommands, fetchText) = await StatsAsync(db);
        output.WriteLine($"{n} queues, idle fetch: {fetchText}");
        Assert.True(fetchCalls >= 1, "an idle fetch runs its script at least once");
        Assert.Equal(fetchCalls * n, fetchCommands);

        // No lease has expired: the pending lists are not looked at. (The first recovery also
        // looks once for what 0.1 left in the queues.)
        await store.RecoverAsync(queues);
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(0, await store.RecoverAsync(queues));
        }

        var (recoverCalls, recoverCommands, recoverText) = await StatsAsync(db);
        output.WriteLine($"{n} queues, recovery: {recoverText}");
        Assert.Equal(10, recoverCalls);
        Assert.Equal(10 * n, recoverCommands);
    }

    /// <summary>Script calls, the commands run inside them, and both as text, since the last RESETSTAT.</summary>
    private static async Task<(long Calls, long Commands, string Text)> StatsAsync(IDatabase db)
    {
        var info = (string)(await db.ExecuteAsync("INFO", "commandstats"))!;
        var parts = info.Split('\n').Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal) && !l.StartsWith("cmdstat_info", StringComparison.Ordinal) && !l.StartsWith("cmdstat_config", StringComparison.Ordinal))
            .Select(l => (name: l[8..l.IndexOf(':')], n: long.Parse(l[(l.IndexOf("calls=", StringComparison.Ordinal) + 6)..l.IndexOf(',')], System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var scripts = parts.Where(p => p.name is "fcall" or "evalsha" or "eval").Sum(p => p.n);
        // SELECT is the client's, not a script's: StackExchange.Redis sends one before each FCALL (a command it does not know).
        var inner = parts.Where(p => p.name is not ("fcall" or "evalsha" or "eval" or "script|load" or "function|load" or "select")).ToList();
        return (scripts, inner.Sum(p => p.n), $"{scripts} script calls, {inner.Sum(p => p.n)} commands inside ({(scripts == 0 ? 0 : inner.Sum(p => p.n) / (double)scripts):F1} per call): " + string.Join(", ", inner.Select(p => $"{p.name} {p.n}")));
    }
}

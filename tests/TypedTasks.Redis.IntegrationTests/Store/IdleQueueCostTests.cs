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
    public async Task An_idle_queue_costs_one_command_per_first_look_and_nothing_after_while_nothing_is_announced(int n)
    {
        // Input: n queues that ran a task each and are now empty; a store (idle fetch interval
        // 200 ms) that promotes, fetches and recovers there. Expected: the first look of each kind
        // costs one command per queue (a fetch one more: it registers the store as idle there,
        // for hand-offs); after it, while no work is announced and no lease holder stopped,
        // promotion and fetch send nothing and recovery reads only the lease registry.
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "ip", IdleFetchInterval = TimeSpan.FromMilliseconds(200) });
        var queues = await RanOneTaskEachAsync(store, n);

        var db = connection.GetDatabase();
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        for (var i = 0; i < 10; i++)
        {
            await store.PromoteDueAsync(queues);
        }

        // The first promotion looks at every queue; the next ones, with nothing known to be due
        // and within the idle fetch interval, send nothing.
        var (promoteCalls, promoteCommands, promoteText) = await StatsAsync(db);
        output.WriteLine($"{n} queues, promote: {promoteText}");
        Assert.Equal(1, promoteCalls);
        Assert.Equal(n, promoteCommands);
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1.2));
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
        // The first fetch looks (EXISTS of the pending lists, HSET of its idle entry, per queue);
        // the next ones (six idle intervals) find nothing announced. The fetch canceled at the end
        // removes its idle entries: one more call, an HDEL per queue and the PUBLISH of its mark.
        Assert.Equal(2, fetchCalls);
        Assert.Equal((3 * n) + 1, fetchCommands);

        // The first recovery looks at every queue (and once for what 0.1 left in them); then, no
        // lease holder having stopped, a recovery reads the registry's oldest entry only.
        await store.RecoverAsync(queues);
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(0, await store.RecoverAsync(queues));
        }

        var (recoverCalls, recoverCommands, recoverText) = await StatsAsync(db);
        output.WriteLine($"{n} queues, recovery: {recoverText}");
        Assert.Equal(0, recoverCalls);
        Assert.Equal(10, recoverCommands);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    public async Task The_safety_looks_of_a_worker_of_100_queues_cost_what_those_of_10_queues_cost(int n)
    {
        // Input: n idle queues (each ran a task), a store on a fake clock that has looked at them
        // once; then ten rounds of promotion, of idle fetch and of recovery, the clock moved one
        // SafetyLookInterval (60 s) before each. Expected: 10 queues are looked at in every round
        // (one command per queue, two for a fetch: its idle entry); 100 queues every tenth, so each
        // kind of look costs 100 commands (fetch 200) over the ten minutes either way: the idle
        // cost does not grow with the number of queues.
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new RedisTransportOptions { KeyPrefix = "sl", IdleFetchInterval = TimeSpan.FromMilliseconds(50) };
        await using var store = new RedisTaskStore(connection, options, time: clock);
        var queues = await RanOneTaskEachAsync(store, n);

        // The first looks, and the lease registry's entry of the fetches above left behind (pruned by a full look).
        clock.Advance(TimeSpan.FromMinutes(2));
        await store.PromoteDueAsync(queues);
        Assert.Empty(await store.FetchAsync(queues, 64, CancellationToken.None));
        await store.RecoverAsync(queues);
        await store.RecoverAsync(queues);

        var db = connection.GetDatabase();
        var looks = 100 / n;
        // besides: what a round costs beyond one command per queue looked at: a fetch writes its idle
        // entry on each queue it looks at, a recovery reads the lease registry once a round.
        foreach (var (kind, round, besides) in new (string, Func<Task>, int)[]
        {
            ("promotion", () => store.PromoteDueAsync(queues).AsTask(), 0),
            ("idle fetch", async () => Assert.Empty(await store.FetchAsync(queues, 64, CancellationToken.None)), 100),
            ("recovery", () => store.RecoverAsync(queues).AsTask(), 10),
        })
        {
            await db.ExecuteAsync("CONFIG", "RESETSTAT");
            for (var i = 0; i < 10; i++)
            {
                clock.Advance(options.SafetyLookInterval + TimeSpan.FromMilliseconds(1));
                await round();
            }

            var (calls, commands, text) = await StatsAsync(db);
            output.WriteLine($"{n} queues, {kind} over ten intervals: {text}");
            Assert.Equal(looks, calls);
            Assert.Equal(100 + besides, commands);
        }
    }

    [Fact]
    public async Task A_fetch_right_after_one_that_emptied_the_queue_looks_once_and_is_handed_the_next_task()
    {
        // Input: a fetch that takes the queue's only task, then the next fetch, which waits until a
        // task is enqueued. The store's script calls over that: the next fetch's look before its
        // wait (it finds nothing and registers the store as idle) and the enqueue, which hands it
        // the task; no look after a wake-up.
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "dr", IdleFetchInterval = TimeSpan.FromMinutes(5) });
        await store.EnqueueAsync("q", new TaskToEnqueue(Small(), 0));
        Assert.Single(await store.FetchAsync(["q"], 64, CancellationToken.None));

        var db = connection.GetDatabase();
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        var fetching = store.FetchAsync(["q"], 64, CancellationToken.None).AsTask();
        await Testing.Poll.UntilAsync(async () => await db.HashLengthAsync("dr:{q}:idle") == 1, "the fetch registered the store as idle", TimeSpan.FromSeconds(20));
        Assert.False(fetching.IsCompleted);
        var id = await store.EnqueueAsync("q", new TaskToEnqueue(Small(2), 0));
        Assert.Equal(id, Assert.Single(await fetching.WaitAsync(TimeSpan.FromSeconds(30))).Id);
        var (calls, _, text) = await StatsAsync(db);
        output.WriteLine(text);
        Assert.Equal(2, calls);

        // Handed: no pending entry was pushed or popped.
        Assert.DoesNotContain("rpop", text, StringComparison.Ordinal);
        Assert.DoesNotContain("lpush", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_promotion_looks_at_a_queue_again_when_a_task_is_scheduled_or_retried_there_or_after_the_safety_interval()
    {
        // Input: a worker's store that has looked at its idle queues "a" and "b" (safety look
        // interval 2 s); then a task scheduled in "a" by another process's store (due in 300 ms),
        // and a retry this store settles in "b". Each is promoted within the bound, by calls that
        // look at its queue only; with nothing known, the queues are looked at again after 2 s.
        await using var server = await Testing.RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var other = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var options = new RedisTransportOptions { KeyPrefix = "pr", SafetyLookInterval = TimeSpan.FromSeconds(2) };
        await using var store = new RedisTaskStore(connection, options);
        await using var producer = new RedisTaskStore(other, new RedisTransportOptions { KeyPrefix = "pr" });
        var db = connection.GetDatabase();
        Assert.Null(await store.PromoteDueAsync(["a", "b"]));

        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        var scheduled = await producer.EnqueueAsync("a", New(Small(1), due: DateTimeOffset.UtcNow.AddMilliseconds(300)));
        await Testing.Poll.UntilAsync(async () => await store.PromoteDueAsync(["a", "b"]) is null && (await store.CountAsync("a")).Pending == 1, "the scheduled task is promoted", TimeSpan.FromSeconds(20));
        var (_, _, text) = await StatsAsync(db);
        output.WriteLine("scheduled: " + text);
        Assert.Equal(Assert.Single(await store.FetchAsync(["a"], 1, CancellationToken.None)).Id, scheduled);

        var retried = await producer.EnqueueAsync("b", New(Small(2)));
        var lease = Assert.Single(await store.FetchAsync(["b"], 1, CancellationToken.None));
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Retry(new TaskError("E", "again", null), DateTimeOffset.UtcNow.AddMilliseconds(300))));
        await Testing.Poll.UntilAsync(async () => await store.PromoteDueAsync(["a", "b"]) is null && (await store.CountAsync("b")).Pending == 1, "the retried task is promoted", TimeSpan.FromSeconds(20));
        Assert.Equal(retried, Assert.Single(await store.FetchAsync(["b"], 1, CancellationToken.None)).Id);

        // Nothing known to be due: no call until the interval has passed since each queue's last look.
        await store.PromoteDueAsync(["a", "b"]);
        await db.ExecuteAsync("CONFIG", "RESETSTAT");
        Assert.Null(await store.PromoteDueAsync(["a", "b"]));
        Assert.Equal(0, (await StatsAsync(db)).Calls);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Null(await store.PromoteDueAsync(["a", "b"]));
        Assert.Equal(1, (await StatsAsync(db)).Calls);
    }

    /// <summary>Queues q0… that have each run one task and are now empty.</summary>
    private static async Task<string[]> RanOneTaskEachAsync(RedisTaskStore store, int n)
    {
        var queues = Enumerable.Range(0, n).Select(i => "q" + i).ToArray();
        foreach (var q in queues)
        {
            await store.EnqueueAsync(q, new TaskToEnqueue(Small(), 0));
            var lease = Assert.Single(await store.FetchAsync([q], 1, CancellationToken.None));
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 1 })));
        }

        return queues;
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

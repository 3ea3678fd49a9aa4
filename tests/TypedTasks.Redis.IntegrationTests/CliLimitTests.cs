using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// typedtasks limits and locks, run as a process on a real Redis. The limited tasks and the unique
/// lock are made through the store, as the client makes them, and started by fetches as a worker would.
/// </summary>
public sealed class CliLimitTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private const string Queue = "limited";
    private const string Acme = "Import|tenant=\"acme\"";
    private readonly string _prefix = "clil-" + Guid.NewGuid().ToString("N")[..8];
    private RedisTaskStore _store = null!;

    public async Task InitializeAsync() => _store = await RedisTaskStore.ConnectAsync(redis.Server.Endpoint, new RedisTransportOptions { KeyPrefix = _prefix });

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private Task<(int Exit, string Output)> Cli(params string[] arguments)
        => CliTests.Run(["--redis", redis.Server.Endpoint, "--prefix", _prefix, .. arguments]);

    private static JsonElement Parse(string output) => JsonDocument.Parse(output).RootElement;

    private Task<string> EnqueueAsync(string task, params TaskLimit[] limits)
        => _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope(task, queue: Queue), 0) { Limits = limits }).AsTask();

    /// <summary>
    /// Three imports for tenant acme under a concurrency limit of 1, two mails under a rate of 1 an
    /// hour, two reports under both kinds keyed alike, and one unique task; one fetch starts the
    /// first of each limit and holds back the rest.
    /// </summary>
    private async Task<(List<string> Acme, List<string> Mail, List<string> Both, string Unique)> ArrangeAsync()
    {
        var acme = new List<string>();
        var mail = new List<string>();
        var both = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            acme.Add(await EnqueueAsync("Import", new TaskLimit(Acme, 1)));
        }

        for (var i = 0; i < 2; i++)
        {
            mail.Add(await EnqueueAsync("Mail", new TaskLimit("Mail", 1, TimeSpan.FromHours(1))));
            both.Add(await EnqueueAsync("Both", new TaskLimit("Both", 1), new TaskLimit("Both", 1, TimeSpan.FromHours(1))));
        }

        var started = (await _store.FetchAsync([Queue], 10, CancellationToken.None)).Select(l => l.Id).ToList();
        Assert.Equal(new[] { acme[0], mail[0], both[0] }.Order(), started.Order());
        var unique = await _store.EnqueueAsync(Queue, new TaskToEnqueue(Envelope("Report", queue: Queue), 0, DateTimeOffset.UtcNow.AddHours(1)) { UniqueKey = "Report:abc", UniqueFor = TimeSpan.FromMinutes(10) });
        Assert.Equal(4, (await _store.CountAsync(Queue)).Held);
        return (acme, mail, both, unique);
    }

    [Fact]
    public async Task Limits_lists_each_limit_in_use_with_what_it_allows_counts_and_holds_back()
    {
        await ArrangeAsync();

        var (exit, output) = await Cli("limits", Queue, "--json");
        Assert.True(exit == 0, output);
        var limits = Parse(output).GetProperty("limits").EnumerateArray().ToList();
        Assert.Equal(["Both:Concurrency", "Both:Rate", Acme + ":Concurrency", "Mail:Rate"], limits.Select(l => l.GetProperty("key").GetString() + ":" + l.GetProperty("kind").GetString()));
        var acme = limits[2];
        Assert.Equal(("Import", "tenant=\"acme\"", 1, 1, 2), (acme.GetProperty("task").GetString(), acme.GetProperty("per_key").GetString(), acme.GetProperty("count").GetInt32(), acme.GetProperty("active").GetInt32(), acme.GetProperty("held").GetInt32()));
        Assert.Equal(JsonValueKind.Null, acme.GetProperty("per_ms").ValueKind);
        var mail = limits[3];
        Assert.Equal((JsonValueKind.Null, 3_600_000L, 1, 1), (mail.GetProperty("per_key").ValueKind, mail.GetProperty("per_ms").GetInt64(), mail.GetProperty("active").GetInt32(), mail.GetProperty("held").GetInt32()));

        var (tableExit, table) = await Cli("limits", Queue);
        Assert.True(tableExit == 0, table);
        Assert.Matches(@"(?m)^Import\s+tenant=""acme""\s+concurrency\s+1 at once\s+1\s+2$", table);
        Assert.Matches(@"(?m)^Mail\s+-\s+rate\s+1 per 1h\s+1\s+1$", table);
        Assert.Matches(@"\(held tasks: typedtasks limits limited --held 'Both' --kind (Concurrency|Rate)\)", table);

        // A known queue without limits says it has none; a queue the store does not know (a
        // mistyped name) exits 1 and says so, as tasks and dead list do.
        await _store.EnqueueAsync("quiet", new TaskToEnqueue(Envelope("Plain", queue: "quiet"), 0));
        var (emptyExit, empty) = await Cli("limits", "quiet");
        Assert.True(emptyExit == 0, empty);
        Assert.Contains("No limit in use in 'quiet'", empty, StringComparison.Ordinal);
        var (unknownExit, unknown) = await Cli("limits", "quiett");
        Assert.Equal(1, unknownExit);
        Assert.Contains("no queue 'quiett' is known here", unknown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Limits_held_pages_the_tasks_one_limit_holds_back_in_the_order_it_lets_them_go()
    {
        var (acme, mail, both, _) = await ArrangeAsync();

        var (exit, output) = await Cli("limits", Queue, "--held", Acme, "--json");
        Assert.True(exit == 0, output);
        var page = Parse(output);
        Assert.Equal(acme[1..], page.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.Equal("Concurrency", page.GetProperty("kind").GetString());
        Assert.All(page.GetProperty("tasks").EnumerateArray(), t => Assert.Equal("Pending", t.GetProperty("state").GetString()));

        var (pagedExit, paged) = await Cli("limits", Queue, "--held", Acme, "--offset", "1", "--count", "1");
        Assert.True(pagedExit == 0, paged);
        Assert.Contains(acme[2], paged, StringComparison.Ordinal);
        Assert.DoesNotContain(acme[1], paged, StringComparison.Ordinal);
        Assert.Contains("--offset 2", paged, StringComparison.Ordinal);

        var (mailExit, mailText) = await Cli("limits", Queue, "--held", "Mail", "--kind", "rate", "--json");
        Assert.True(mailExit == 0, mailText);
        Assert.Equal(mail[1], Parse(mailText).GetProperty("tasks").EnumerateArray().Single().GetProperty("id").GetString());
        var (wrongKindExit, wrongKind) = await Cli("limits", Queue, "--held", "Mail", "--kind", "Concurrency");
        Assert.True(wrongKindExit == 0, wrongKind);
        Assert.Contains("The concurrency limit 'Mail' of 'limited' holds back no task.", wrongKind, StringComparison.Ordinal);

        // A key with both kinds: the one that held the task back lists it, and the tool asks which is meant.
        var heldBy = new List<string?>();
        foreach (var kind in new[] { "Concurrency", "Rate" })
        {
            var (kindExit, kindText) = await Cli("limits", Queue, "--held", "Both", "--kind", kind, "--json");
            Assert.True(kindExit == 0, kindText);
            heldBy.AddRange(Parse(kindText).GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        }

        Assert.Equal(both[1], Assert.Single(heldBy));
        foreach (var (arguments, code, error) in new (string[], int, string)[]
        {
            (["--held", "Both"], 2, "'Both' has a concurrency and a rate limit in 'limited': say which with --kind Concurrency or --kind Rate"),
            (["--held", "Nothing"], 1, "no limit 'Nothing' in use in 'limited'"),
            (["--offset", "1"], 2, "--kind, --offset and --count page the tasks a limit holds back: give the limit with --held KEY"),
            (["--kind", "Rate"], 2, "give the limit with --held KEY"),
            (["--held", "Mail", "--kind", "Sometimes"], 2, "Sometimes"),
            (["--held", new string('k', 513)], 2, "--held: a limit key has 1 to 512 characters"),
            (["--held", "Mail", "--count", "0"], 2, "--count: 0 is not between 1 and 1000"),
        })
        {
            var (bad, text) = await Cli(["limits", Queue, .. arguments]);
            Assert.True(bad == code, $"{string.Join(' ', arguments)}: exit {bad}: {text}");
            Assert.Contains(error, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Locks_lists_the_unique_locks_that_hold_with_their_task_state_and_status_shows_the_held_count()
    {
        var (_, _, _, unique) = await ArrangeAsync();

        var (exit, output) = await Cli("locks", Queue, "--json");
        Assert.True(exit == 0, output);
        var held = Parse(output).GetProperty("locks").EnumerateArray().Single();
        Assert.Equal(("Report:abc", unique, "Scheduled"), (held.GetProperty("key").GetString(), held.GetProperty("task_id").GetString(), held.GetProperty("state").GetString()));
        Assert.InRange(held.GetProperty("expires_in_s").GetDouble(), 1, 600);

        var (tableExit, table) = await Cli("locks", Queue);
        Assert.True(tableExit == 0, table);
        Assert.Matches($@"(?m)^Report:abc\s+{System.Text.RegularExpressions.Regex.Escape(unique)}\s+Scheduled\s+(9m|10m 0s)", table);
        await _store.EnqueueAsync("quiet", new TaskToEnqueue(Envelope("Plain", queue: "quiet"), 0));
        var (noneExit, none) = await Cli("locks", "quiet");
        Assert.True(noneExit == 0, none);
        Assert.Contains("No unique lock holds in 'quiet'.", none, StringComparison.Ordinal);
        var (unknownExit, unknown) = await Cli("locks", "quiett");
        Assert.Equal(1, unknownExit);
        Assert.Contains("no queue 'quiett' is known here", unknown, StringComparison.Ordinal);

        var (statusExit, status) = await Cli("status", "--json");
        Assert.True(statusExit == 0, status);
        var queue = Parse(status).GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == Queue);
        Assert.Equal((4, 4, 1, 3), (queue.GetProperty("pending").GetInt32(), queue.GetProperty("held").GetInt32(), queue.GetProperty("scheduled").GetInt32(), queue.GetProperty("started").GetInt32()));
        var (statusTableExit, statusTable) = await Cli("status");
        Assert.True(statusTableExit == 0, statusTable);
        Assert.Matches(@"(?m)^limited\s+4 \(4 held\)\s+1\s+3\s", statusTable);
        Assert.Contains("typedtasks limits limited shows the limits", statusTable, StringComparison.Ordinal);
    }
}

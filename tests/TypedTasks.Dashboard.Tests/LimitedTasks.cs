using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;
using TypedTasks.Testing;

namespace TypedTasks.Dashboard.Tests;

/// <summary>
/// Tasks under limits and a unique lock, made through the store as the client makes them and
/// started by one fetch as a worker would: three imports of tenant acme under a concurrency limit
/// of 1, two mails under a rate of 1 a minute, and two unique reports.
/// </summary>
internal sealed record LimitedTasks(IReadOnlyList<string> Acme, IReadOnlyList<string> Mail, IReadOnlyList<string> Reports)
{
    public const string AcmeKey = "dash.import|tenant=\"acme\"";

    /// <summary>Makes them in <paramref name="queue"/>, which no worker serves: they stay as the fetch left them.</summary>
    public static async Task<LimitedTasks> ArrangeAsync(ITaskStore store, string queue)
    {
        var acme = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            acme.Add(await store.EnqueueAsync(queue, new TaskToEnqueue(Envelopes.Of("dash.import", "acme"), 0) { Limits = [new TaskLimit(AcmeKey, 1)] }));
        }

        var mail = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            mail.Add(await store.EnqueueAsync(queue, new TaskToEnqueue(Envelopes.Of("dash.mail", "hello"), 0) { Limits = [new TaskLimit("dash.mail", 1, TimeSpan.FromMinutes(1))] }));
        }

        var started = await store.FetchAsync([queue], 10, CancellationToken.None);
        Assert.Equal(new[] { acme[0], mail[0] }, started.Select(l => l.Id));

        // Not due for an hour: the locks' tasks wait, so the locks hold.
        var reports = new List<string>();
        foreach (var (key, minutes) in new[] { ("dash.report:abc", 10), ("dash.report:def", 20) })
        {
            reports.Add(await store.EnqueueAsync(queue, new TaskToEnqueue(Envelopes.Of("dash.report", key), 0, DateTimeOffset.UtcNow.AddHours(1)) { UniqueKey = key, UniqueFor = TimeSpan.FromMinutes(minutes) }));
        }

        Assert.Equal(3, (await store.CountAsync(queue)).Held);
        return new LimitedTasks(acme, mail, reports);
    }
}

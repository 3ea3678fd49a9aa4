using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Store;

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
            acme.Add(await store.EnqueueAsync(queue, new TaskToEnqueue(Envelope("dash.import", "acme"), 0) { Limits = [new TaskLimit(AcmeKey, 1)] }));
        }

        var mail = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            mail.Add(await store.EnqueueAsync(queue, new TaskToEnqueue(Envelope("dash.mail", "hello"), 0) { Limits = [new TaskLimit("dash.mail", 1, TimeSpan.FromMinutes(1))] }));
        }

        var started = await store.FetchAsync([queue], 10, CancellationToken.None);
        Assert.Equal(new[] { acme[0], mail[0] }, started.Select(l => l.Id));

        // Not due for an hour: the locks' tasks wait, so the locks hold.
        var reports = new List<string>();
        foreach (var (key, minutes) in new[] { ("dash.report:abc", 10), ("dash.report:def", 20) })
        {
            reports.Add(await store.EnqueueAsync(queue, new TaskToEnqueue(Envelope("dash.report", key), 0, DateTimeOffset.UtcNow.AddHours(1)) { UniqueKey = key, UniqueFor = TimeSpan.FromMinutes(minutes) }));
        }

        Assert.Equal(3, (await store.CountAsync(queue)).Held);
        return new LimitedTasks(acme, mail, reports);
    }

    /// <summary>A version 2 envelope (docs/wire-format.md) of <paramref name="task"/> with one string argument.</summary>
    private static byte[] Envelope(string task, string argument)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(7);
        writer.Write(2);
        writer.Write(task);
        writer.Write((ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteArrayHeader(1);
        writer.Write(argument);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}

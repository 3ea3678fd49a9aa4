using System;
using System.Linq;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.InMemory;
using TypedTasks.Tests.Support;

namespace TypedTasks.Tests;

/// <summary>
/// Bytes that are not a runnable envelope go, verbatim, to the queue's dead-letter list with the
/// reason; the worker keeps running and the tasks around them succeed.
/// </summary>
public sealed class BadInputTests
{
    private static byte[] Envelope(int version, string task, byte[] arguments)
    {
        var writer = new ArrayBufferWriterHelper();
        var w = new MessagePackWriter(writer.Buffer);
        w.WriteArrayHeader(11);
        w.Write(version);
        w.Write(Guid.NewGuid().ToString());
        w.Write(task);
        w.Write("default");
        w.Write(0);
        w.Write(0);
        w.Write(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        w.WriteNil();
        w.WriteNil();
        w.WriteNil();
        w.WriteRaw(arguments);
        w.Flush();
        return writer.Buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task Garbage_truncated_and_unknown_messages_are_dead_lettered_and_the_tasks_around_them_succeed()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var proxy = Tasks.Add.WithClient(host.Client);
        var before = await proxy.EnqueueAsync(1, 1);

        var good = Envelope(1, "tests.add", [0x92, 0x01, 0x02]);
        var inputs = new (byte[] Bytes, string Reason)[]
        {
            ("not a message at all"u8.ToArray(), "expected a MessagePack array"),
            (good[..(good.Length / 2)], "malformed envelope"),
            (Envelope(99, "tests.add", [0x92, 0x01, 0x02]), "unsupported envelope version 99"),
            (Envelope(1, "tests.no-such-task", [0x90]), "unknown task 'tests.no-such-task'"),
            (Envelope(1, "tests.add", [0x91, 0x01]), "takes 2 argument(s) but the message carries 1"),
            (Envelope(1, "tests.add", [0x92, 0xA1, 0x78, 0x01]), "Argument 'x' of task tests.add cannot be read"),
        };
        foreach (var (bytes, _) in inputs)
        {
            await store.EnqueueRawAsync("default", bytes);
        }

        // No bytes at all are refused at the door, and nothing is stored.
        var empty = await Assert.ThrowsAsync<ArgumentException>(async () => await store.EnqueueRawAsync("default", []));
        Assert.Contains("empty envelope", empty.Message, StringComparison.Ordinal);

        var after = await proxy.EnqueueAsync(2, 2);
        Assert.Equal(2, await before.GetAsync(TestHost.Wait));
        Assert.Equal(4, await after.GetAsync(TestHost.Wait));

        var deadline = DateTime.UtcNow + TestHost.Wait;
        while ((await store.CountAsync("default")).Failed < inputs.Length && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        // Each ends Failed, once, with its bytes kept verbatim and the reason as its error.
        var dead = await store.ListAsync("default", TaskState.Failed, 0, 100);
        Assert.Equal(inputs.Length, dead.Count);
        foreach (var (bytes, reason) in inputs)
        {
            var letter = Assert.Single(dead, d => d.Envelope.Span.SequenceEqual(bytes));
            Assert.Contains(reason, letter.Info.Error!.Message, StringComparison.Ordinal);
        }

        // The worker is still serving.
        Assert.Equal(6, await (await proxy.EnqueueAsync(3, 3)).GetAsync(TestHost.Wait));
    }

    [Fact]
    public async Task A_message_for_an_unknown_task_fails_its_waiter_instead_of_leaving_it_hanging()
    {
        var store = new InMemoryTaskStore();
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store));
        var bytes = Envelope(1, "tests.renamed-away", [0x90]);
        var id = await store.EnqueueRawAsync("default", bytes);

        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => host.Client.GetResult(id).GetAsync(TestHost.Wait));
        Assert.Equal("TypedTasks.UnknownTask", failure.RemoteType);
    }

    private sealed class ArrayBufferWriterHelper
    {
        public System.Buffers.ArrayBufferWriter<byte> Buffer { get; } = new();
    }
}

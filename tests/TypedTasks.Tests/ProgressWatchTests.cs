using System;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.Time.Testing;
using TypedTasks.InMemory;
using TypedTasks.Store;

namespace TypedTasks.Tests;

/// <summary>WatchAsync must yield every stored value it reads that differs from the last it yielded.</summary>
public sealed class ProgressWatchTests
{
    [Fact]
    public async Task A_value_stored_in_the_same_millisecond_as_the_previous_one_is_still_yielded()
    {
        // Two writes of one run within one millisecond: the reporter's interval write and the run's
        // final flush right after it, when the task returns at once. A frozen clock makes them meet.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero));
        var store = new InMemoryTaskStore(timeProvider: time);
        await using var host = await TestHost.StartAsync(options: o => o.UseInMemory(store), withWorker: false);
        var handle = await Tasks.Import.WithClient(host.Client).EnqueueAsync(2, 1);
        var lease = Assert.Single(await store.FetchAsync(["default"], 1, CancellationToken.None));

        Assert.True(await store.SetProgressAsync(lease, Encode(new ImportProgress(1, 2, "copying"))));
        using var limit = new CancellationTokenSource(TestHost.Wait);
        var watch = Tasks.Import.WithClient(host.Client).Progress(handle).WatchAsync(TimeSpan.FromMilliseconds(10), limit.Token).GetAsyncEnumerator(limit.Token);
        try
        {
            Assert.True(await watch.MoveNextAsync());
            Assert.Equal(new ImportProgress(1, 2, "copying"), watch.Current.Value);

            Assert.True(await store.SetProgressAsync(lease, Encode(new ImportProgress(2, 2, "done"))));
            await store.CompleteAsync(lease, TaskCompletion.Succeeded(Encode(2)), CancellationToken.None);

            // The task ended after its last report: the watch must yield that report before it ends.
            Assert.True(await watch.MoveNextAsync(), "the watch ended without yielding the task's last value");
            Assert.Equal(new ImportProgress(2, 2, "done"), watch.Current.Value);
        }
        finally
        {
            await watch.DisposeAsync();
        }
    }

    private static byte[] Encode<T>(T value) => MessagePackSerializer.Serialize(value, TaskSerializer.Options);
}

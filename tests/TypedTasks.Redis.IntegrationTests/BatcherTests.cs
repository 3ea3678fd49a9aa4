using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>The group commit under the Redis transport's writes, starts, reads and acks.</summary>
public sealed class BatcherTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_lone_request_is_written_at_once_and_alone()
    {
        var writes = new List<int[]>();
        var batcher = new Batcher<int, int>((requests, responses) =>
        {
            writes.Add([.. requests]);
            for (var i = 0; i < requests.Count; i++)
            {
                responses[i] = requests[i] * 10;
            }

            return Task.CompletedTask;
        });

        Assert.Equal(70, await batcher.Add(7).WaitAsync(Wait));
        Assert.Equal([[7]], writes);
    }

    [Fact]
    public async Task Requests_added_while_a_hold_is_open_go_together_in_one_write_when_it_ends()
    {
        // Input: ten requests to an idle batcher, added under a StoreCallHold. Expected: nothing
        // written until the hold ends, then one write of all ten (without the hold the first
        // would go alone and the other nine one write later).
        var writes = new List<int[]>();
        var batcher = new Batcher<int, int>((requests, responses) =>
        {
            writes.Add([.. requests]);
            for (var i = 0; i < requests.Count; i++)
            {
                responses[i] = -requests[i];
            }

            return Task.CompletedTask;
        });

        Task<int>[] added;
        using (StoreCallHold.Open())
        {
            added = [.. Enumerable.Range(1, 10).Select(batcher.Add)];
            Assert.Empty(writes);
        }

        Assert.Equal(Enumerable.Range(1, 10).Select(i => -i), await Task.WhenAll(added).WaitAsync(Wait));
        Assert.Equal([[.. Enumerable.Range(1, 10)]], writes);
        Assert.Equal(-11, await batcher.Add(11).WaitAsync(Wait));
        Assert.Equal([11], writes[^1]);
    }

    [Fact]
    public async Task Requests_that_arrive_during_a_write_go_together_in_the_next_one()
    {
        var writes = new List<int[]>();
        var firstOnTheWire = new TaskCompletionSource();
        var batcher = new Batcher<int, int>(async (requests, responses) =>
        {
            writes.Add([.. requests]);
            if (writes.Count == 1)
            {
                await firstOnTheWire.Task;
            }

            for (var i = 0; i < requests.Count; i++)
            {
                responses[i] = requests[i] + 1;
            }
        });

        var first = batcher.Add(0);
        var later = Enumerable.Range(1, 10).Select(batcher.Add).ToArray();
        Assert.Single(writes);
        firstOnTheWire.SetResult();

        Assert.Equal(1, await first.WaitAsync(Wait));
        Assert.Equal(Enumerable.Range(2, 10), await Task.WhenAll(later).WaitAsync(Wait));
        Assert.Equal(2, writes.Count);
        Assert.Equal(Enumerable.Range(1, 10), writes[1]);
    }

    [Fact]
    public async Task A_failed_write_fails_each_of_its_callers_and_the_next_batch_still_goes()
    {
        var calls = 0;
        var release = new TaskCompletionSource();
        var batcher = new Batcher<string, bool>(async (requests, responses) =>
        {
            if (++calls == 1)
            {
                await release.Task;
                throw new Transport.TransportException("Redis could not be reached: test");
            }

            Array.Fill(responses, true);
        });

        var failing = new[] { batcher.Add("a") };
        var queued = new[] { batcher.Add("b"), batcher.Add("c") };
        release.SetResult();

        var error = await Assert.ThrowsAsync<Transport.TransportException>(() => failing[0].WaitAsync(Wait));
        Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
        Assert.All(await Task.WhenAll(queued).WaitAsync(Wait), Assert.True);
        Assert.True(await batcher.Add("d").WaitAsync(Wait));
    }
}

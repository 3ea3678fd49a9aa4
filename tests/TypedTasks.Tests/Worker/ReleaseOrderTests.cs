using System.Collections.Generic;
using System.Linq;
using TypedTasks.Store;
using TypedTasks.Worker;
using Xunit;

namespace TypedTasks.Tests.Worker;

/// <summary>
/// The order a stopping worker sends unstarted leases back in: each queue and priority in its
/// store's run order, in the places its leases held.
/// </summary>
public sealed class ReleaseOrderTests
{
    private static TaskLease Lease(string queue, long order, int priority = 0) => new($"{queue}-{order}", queue, 1, new byte[] { 1 }, priority, 1) { RunOrder = order };

    [Fact]
    public void A_handed_task_that_overtook_a_fetchs_answer_goes_back_behind_the_older_ones()
    {
        // Input: the buffer held 2 and 5 (5 handed by an enqueue), the fetcher's answer not handed
        // on held 3 and 4. Expected: 2, 3, 4, 5 (released from the end: 5 first, 2 last, at the head).
        List<TaskLease> leases = [Lease("q", 2), Lease("q", 5), Lease("q", 3), Lease("q", 4)];
        Assert.Equal(["q-2", "q-3", "q-4", "q-5"], ReleaseOrder.InRunOrder(leases).Select(l => l.Id));
    }

    [Fact]
    public void Each_queue_and_priority_is_ordered_in_its_own_places()
    {
        // Input: queue a's 3 and 1, queue b's 9, queue a's priority-5 task 7 and 6, interleaved.
        // Expected: a's priority-0 leases swap places; b's stays; a's priority-5 leases swap places.
        List<TaskLease> leases = [Lease("a", 3), Lease("b", 9), Lease("a", 7, 5), Lease("a", 1), Lease("a", 6, 5)];
        Assert.Equal(["a-1", "b-9", "a-6", "a-3", "a-7"], ReleaseOrder.InRunOrder(leases).Select(l => l.Id));
    }

    [Fact]
    public void A_group_with_a_lease_of_unknown_order_keeps_the_order_it_came_in()
    {
        // Input: a lease with RunOrder 0 (a store that does not say) among ordered ones of its queue.
        List<TaskLease> leases = [Lease("q", 4), Lease("q", 0), Lease("q", 2)];
        Assert.Equal(["q-4", "q-0", "q-2"], ReleaseOrder.InRunOrder(leases).Select(l => l.Id));
    }
}

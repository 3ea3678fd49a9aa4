using System.Collections.Generic;
using System.Linq;
using TypedTasks.Store;

namespace TypedTasks.Worker;

/// <summary>
/// The order in which a stopping worker sends unstarted leases back (it releases the list from
/// its end, each to the head of its queue).
/// </summary>
internal static class ReleaseOrder
{
    /// <summary>
    /// The leases as they came (the prefetch buffer's, then a fetch's answer not handed on), with
    /// those of each queue and priority put in their store's run order in the places they held,
    /// where the store gave every one of them a <see cref="TaskLease.RunOrder"/>: a task handed to
    /// this worker by an enqueue can reach the buffer before an older one whose fetch answered
    /// first. A group with a lease of unknown order keeps the order they came in.
    /// </summary>
    public static List<TaskLease> InRunOrder(List<TaskLease> leases)
    {
        var result = new List<TaskLease>(leases);
        foreach (var group in leases.Select((lease, at) => (Lease: lease, At: at)).GroupBy(x => (x.Lease.Queue, x.Lease.Priority)))
        {
            if (group.Any(x => x.Lease.RunOrder <= 0))
            {
                continue;
            }

            var places = group.Select(x => x.At).ToList();
            var ordered = group.Select(x => x.Lease).OrderBy(lease => lease.RunOrder).ToList();
            for (var k = 0; k < places.Count; k++)
            {
                result[places[k]] = ordered[k];
            }
        }

        return result;
    }
}

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Splits the keys of a batch into groups that one script call or MGET may touch: keys of one
/// hash slot, at most <c>max</c> of them. On a standalone server every key is in one group; on a
/// Cluster, result keys (one slot per task id) mostly go one by one.
/// </summary>
internal static class SlotGroups
{
    /// <summary>
    /// Makes one <paramref name="call"/> per group (it gets the batch indices of its keys), all
    /// pipelined, waits for every one, then hands each answer to <paramref name="answer"/> with the
    /// same indices.
    /// </summary>
    public static async Task RunAsync<T>(IConnectionMultiplexer connection, int count, Func<int, RedisKey> keyAt, int max, Func<List<int>, Task<T>> call, Action<List<int>, T>? answer = null)
    {
        var groups = Of(connection, count, keyAt, max);
        var calls = new Task<T>[groups.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            calls[g] = call(groups[g]);
        }

        await Transient.Run(Task.WhenAll(calls)).ConfigureAwait(false);
        if (answer is not null)
        {
            for (var g = 0; g < groups.Count; g++)
            {
                answer(groups[g], calls[g].Result);
            }
        }
    }

    private static List<List<int>> Of(IConnectionMultiplexer connection, int count, Func<int, RedisKey> keyAt, int max)
    {
        var groups = new List<List<int>>();
        Dictionary<int, List<int>>? open = null;
        List<int>? only = null;
        var onlySlot = int.MinValue;
        for (var i = 0; i < count; i++)
        {
            var slot = connection.GetHashSlot(keyAt(i));
            List<int>? group;
            if (open is null && (only is null || slot == onlySlot))
            {
                // The common case, one slot for all: no dictionary.
                group = only;
                if (group is null || group.Count == max)
                {
                    group = only = [];
                    onlySlot = slot;
                    groups.Add(group);
                }
            }
            else
            {
                if (open is null)
                {
                    open = new Dictionary<int, List<int>> { [onlySlot] = only! };
                }

                if (!open.TryGetValue(slot, out group) || group.Count == max)
                {
                    group = [];
                    open[slot] = group;
                    groups.Add(group);
                }
            }

            group.Add(i);
        }

        return groups;
    }
}

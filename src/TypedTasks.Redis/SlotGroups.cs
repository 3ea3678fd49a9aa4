using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis;

/// <summary>
/// Splits the keys of a batch into groups that one script call or MGET may touch: keys of one
/// hash slot, at most <c>max</c> of them (or, with a weight per key, at most <c>max</c> in weight:
/// a key heavier than that goes alone). On a standalone server every key is in one group; on a
/// Cluster, result keys (one slot per task id) mostly go one by one.
/// </summary>
internal static class SlotGroups
{
    /// <summary>
    /// Makes one <paramref name="call"/> per group (it gets the batch indices of its keys), all
    /// pipelined, waits for every one, then hands each answer to <paramref name="answer"/> with the
    /// same indices. With <paramref name="weightOf"/>, a group's weights add up to at most
    /// <paramref name="max"/> (the enqueue's: its tasks, so that a large workflow sent in parts
    /// goes in as many calls, between which a worker's calls are served).
    /// </summary>
    public static async Task RunAsync<T>(IConnectionMultiplexer connection, int count, Func<int, RedisKey> keyAt, int max, Func<List<int>, Task<T>> call, Action<List<int>, T>? answer = null, Func<int, int>? weightOf = null)
    {
        var groups = Of(connection, count, keyAt, max, weightOf);
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

    private static List<List<int>> Of(IConnectionMultiplexer connection, int count, Func<int, RedisKey> keyAt, int max, Func<int, int>? weightOf)
    {
        var groups = new List<List<int>>();
        Dictionary<int, Open>? open = null;
        Open? only = null;
        var onlySlot = int.MinValue;
        for (var i = 0; i < count; i++)
        {
            var slot = connection.GetHashSlot(keyAt(i));
            var weight = weightOf?.Invoke(i) ?? 1;
            Open? group;
            if (open is null && (only is null || slot == onlySlot))
            {
                // The common case, one slot for all: no dictionary.
                group = only;
                if (group is null || group.Full(weight, max))
                {
                    group = only = new Open();
                    onlySlot = slot;
                    groups.Add(group.Items);
                }
            }
            else
            {
                open ??= new Dictionary<int, Open> { [onlySlot] = only! };
                if (!open.TryGetValue(slot, out group) || group.Full(weight, max))
                {
                    group = new Open();
                    open[slot] = group;
                    groups.Add(group.Items);
                }
            }

            group.Items.Add(i);
            group.Weight += weight;
        }

        return groups;
    }

    /// <summary>A group being filled: its keys' indices and their weight.</summary>
    private sealed class Open
    {
        public List<int> Items { get; } = [];

        public int Weight { get; set; }

        /// <summary>Whether a key of <paramref name="weight"/> must start a new group (never when this one is empty).</summary>
        public bool Full(int weight, int max) => Items.Count > 0 && (Items.Count == max || Weight + weight > max);
    }
}

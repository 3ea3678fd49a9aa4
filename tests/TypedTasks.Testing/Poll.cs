using System;
using System.Threading.Tasks;

namespace TypedTasks.Testing;

/// <summary>Bounded waiting for a condition that other processes or threads make true.</summary>
public static class Poll
{
    /// <summary>Checks <paramref name="condition"/> every <paramref name="interval"/> (25 ms) until it holds; fails after <paramref name="limit"/> (60 s).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(25));
        }
    }
}

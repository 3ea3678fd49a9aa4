using System;
using System.Collections.Generic;

namespace TypedTasks.Store;

/// <summary>
/// Lets code that starts many store calls in one go (a scheduler round's due fires) have them sent
/// together. A store that groups concurrent calls (the Redis store) sends the first call of an
/// idle group at once, alone, and the rest only once it is answered: a round of ten fires would
/// pay two round trips. While a hold is open on a thread, such a store queues the calls started
/// there and sends them, all in one, when the hold ends. A store that does not look at it is
/// unaffected.
/// </summary>
internal static class StoreCallHold
{
    [ThreadStatic]
    private static int t_depth;

    [ThreadStatic]
    private static List<Action>? t_deferred;

    /// <summary>Opens a hold on this thread, to dispose on the same thread, before any await.</summary>
    public static Scope Open()
    {
        t_depth++;
        return default;
    }

    /// <summary>
    /// Asks whether a group's first call can wait: true when a hold is open on this thread, and
    /// <paramref name="send"/> then runs when it ends; false when the caller sends now.
    /// </summary>
    public static bool Defer(Action send)
    {
        if (t_depth == 0)
        {
            return false;
        }

        (t_deferred ??= []).Add(send);
        return true;
    }

    /// <summary>An open hold; disposing it sends what it held.</summary>
    public readonly struct Scope : IDisposable
    {
        public void Dispose()
        {
            if (--t_depth > 0 || t_deferred is not { Count: > 0 } deferred)
            {
                return;
            }

            t_deferred = null;
            foreach (var send in deferred)
            {
                send();
            }
        }
    }
}

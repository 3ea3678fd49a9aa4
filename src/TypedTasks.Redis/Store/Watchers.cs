using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace TypedTasks.Redis.Store;

/// <summary>
/// One watcher in a list of callbacks a store calls when it hears something (a change to the
/// schedules, a due time): made by adding it, removed by disposing it.
/// </summary>
internal sealed class Watchers : IAsyncDisposable
{
    private readonly List<Action> _list;
    private readonly Action _watcher;

    public Watchers(List<Action> list, Action watcher)
    {
        _list = list;
        _watcher = watcher;
        lock (list)
        {
            list.Add(watcher);
        }
    }

    /// <summary>Calls every watcher of <paramref name="list"/>, outside its lock.</summary>
    public static void Call(List<Action> list)
    {
        Action[] watchers;
        lock (list)
        {
            if (list.Count == 0)
            {
                return;
            }

            watchers = [.. list];
        }

        foreach (var watcher in watchers)
        {
            watcher();
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_list)
        {
            _list.Remove(_watcher);
        }

        return ValueTask.CompletedTask;
    }
}

using System.ComponentModel;

namespace TypedTasks;

/// <summary>
/// The base of every generated proxy (<c>Tasks.Add</c> is one): it holds the client and the
/// per-call options that <c>WithClient</c> and <c>With</c> bind.
/// </summary>
public abstract class TaskProxy
{
    private readonly TaskClient? _client;

    /// <summary>Creates a proxy bound to a client (or to <see cref="TaskClient.Current"/> when null) and options.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TaskProxy(TaskClient? client, EnqueueOptions? options)
    {
        _client = client;
        Options = options;
    }

    /// <summary>The task this proxy enqueues.</summary>
    public abstract TaskDescriptor Descriptor { get; }

    /// <summary>The client this proxy sends through.</summary>
    protected TaskClient Client => _client ?? TaskClient.Current;

    /// <summary>The client this proxy was bound to, or null for the current one.</summary>
    protected TaskClient? BoundClient => _client;

    /// <summary>The per-call options this proxy was bound to.</summary>
    protected EnqueueOptions? Options { get; }
}

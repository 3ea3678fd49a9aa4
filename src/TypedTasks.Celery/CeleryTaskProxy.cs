using System.ComponentModel;

namespace TypedTasks.Celery;

/// <summary>The base of every generated Celery proxy (<c>CeleryTasks.Add</c> is one): the task's name and queue, a client and per-call options.</summary>
public abstract class CeleryTaskProxy
{
    private readonly CeleryClient? _client;

    /// <summary>Creates a proxy bound to a client (or to <see cref="CeleryClient.Current"/> when null) and options.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected CeleryTaskProxy(CeleryClient? client, CeleryEnqueueOptions? options)
    {
        _client = client;
        Options = options;
    }

    /// <summary>The task's Celery name.</summary>
    public abstract string Name { get; }

    /// <summary>The declared queue, or null for the client's default queue.</summary>
    public abstract string? Queue { get; }

    /// <summary>The client this proxy sends through.</summary>
    protected CeleryClient Client => _client ?? CeleryClient.Current;

    /// <summary>The client this proxy was bound to, or null for the current one.</summary>
    protected CeleryClient? BoundClient => _client;

    /// <summary>The per-call options this proxy was bound to.</summary>
    protected CeleryEnqueueOptions? Options { get; }
}

using System;
using StackExchange.Redis;

namespace TypedTasks.Celery;

/// <summary>
/// Where Celery's broker and result backend are and how they behave: one Redis for both, as with
/// <c>broker_url</c> and <c>result_backend</c> both set to <c>redis://host:port/db</c>.
/// </summary>
public sealed class CeleryOptions
{
    /// <summary>A StackExchange.Redis connection string (<c>"localhost:6379"</c>); used when <see cref="Connection"/> is null.</summary>
    public string? Configuration { get; set; }

    /// <summary>A connection the application already has; it is not disposed by this library.</summary>
    public IConnectionMultiplexer? Connection { get; set; }

    /// <summary>The Redis database number of the broker and backend (the <c>/0</c> of a Celery URL). Default 0.</summary>
    public int Database { get; set; }

    /// <summary>The queue a task goes to unless its declaration or the call says otherwise: Celery's <c>task_default_queue</c>. Default <c>"celery"</c>.</summary>
    public string DefaultQueue { get; set; } = "celery";

    /// <summary>How long a stored result lives: Celery's <c>result_expires</c>. Default one day; zero keeps results for ever.</summary>
    public TimeSpan ResultExpires { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a fetched message may stay unacknowledged before any worker (Python or .NET) puts it
    /// back in its queue: kombu's <c>visibility_timeout</c> transport option. Default one hour, as kombu's;
    /// every worker sharing the queues must use the same value.
    /// </summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The suffix of the list where a refused message goes: a message from queue <c>q</c> that is
    /// pickle (or anything but JSON and msgpack), not protocol 2, or not a kombu envelope is pushed
    /// to <c>q.dead</c> with the reason, never run. Default <c>".dead"</c>.
    /// </summary>
    public string DeadLetterSuffix { get; set; } = ".dead";

    /// <summary>
    /// The serializer the result backend reads: Celery's <c>result_serializer</c>, <c>"json"</c>
    /// (default) or <c>"msgpack"</c>.
    /// </summary>
    public string ResultSerializer { get; set; } = "json";
}

using System;
using TypedTasks.InMemory;
using TypedTasks.Store;

namespace TypedTasks;

/// <summary>
/// Settings of a TypedTasks client; bound from the <c>TypedTasks</c> configuration section, then
/// from the code given to <c>AddTypedTasks</c>.
/// </summary>
public sealed class TypedTasksOptions
{
    /// <summary>
    /// A Redis connection string (<c>TypedTasks:Redis</c>). When set and no store is chosen in
    /// code, the Redis task store of the TypedTasks.Redis package is used; when absent, the
    /// in-memory one.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>How long a task's state and result are kept after the last write. Default one day.</summary>
    public TimeSpan ResultTtl { get; set; } = TaskDefaults.ResultTtl;

    /// <summary>
    /// How long after a task is first sent to a queue the client checks that a live worker will run
    /// it, and logs one warning per queue and task when none serves the queue or none knows the
    /// task. The wait lets a worker that starts beside the producer publish its heartbeat first.
    /// A producer that stops sooner is checked as it stops. Default 5 s, at most 30 days;
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns the check off.
    /// </summary>
    public TimeSpan WorkerCheckDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The largest message, in bytes, that an enqueue sends (the arguments and the envelope around
    /// them). A larger one fails at enqueue with an <see cref="ArgumentException"/> that names the
    /// size, and nothing is sent. Default <see cref="TaskDefaults.MaxMessageSize"/> (4 MiB).
    /// </summary>
    public int MaxMessageSize { get; set; } = TaskDefaults.MaxMessageSize;

    internal Func<IServiceProvider, ITaskStore>? StoreFactory { get; private set; }

    internal bool OwnsStore { get; private set; } = true;

    /// <summary>Uses a task store of your own making; the host disposes it when it stops.</summary>
    /// <param name="factory">Creates the store once, from the application's services.</param>
    public TypedTasksOptions UseStore(Func<IServiceProvider, ITaskStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        StoreFactory = factory;
        OwnsStore = true;
        return this;
    }

    /// <summary>
    /// Uses the store inside this process: no Redis needed, nothing kept across a restart. Give a
    /// store to share it between several hosts in one process; a store given here is not disposed
    /// by the host.
    /// </summary>
    public TypedTasksOptions UseInMemory(InMemoryTaskStore? store = null)
    {
        // ResultTtl is read when the store is made, so that it may be set before or after this call.
        StoreFactory = services => store ?? new InMemoryTaskStore(ResultTtl, (TimeProvider?)services.GetService(typeof(TimeProvider)));
        OwnsStore = store is null;
        return this;
    }

    // Room for the envelope of a task with a long name and id and a few small arguments.
    internal const int MinMessageSize = 1024;

    internal void Validate()
    {
        if (ResultTtl <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"TypedTasks:ResultTtl must be positive (it is {ResultTtl}).");
        }

        if (MaxMessageSize < MinMessageSize)
        {
            throw new InvalidOperationException($"TypedTasks:MaxMessageSize must be at least {MinMessageSize} bytes (it is {MaxMessageSize}).");
        }

        if ((WorkerCheckDelay < TimeSpan.Zero || WorkerCheckDelay > QueueCoverage.MaxDelay) && WorkerCheckDelay != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new InvalidOperationException($"TypedTasks:WorkerCheckDelay must be between 0 and {QueueCoverage.MaxDelay.TotalDays:0} days (it is {WorkerCheckDelay}); use -00:00:00.001 (infinite) to turn the check off.");
        }
    }
}

using System;
using System.Threading;

namespace TypedTasks.Dashboard.Operations;

/// <summary>One operation on many tasks, done on the server in batches: what it is, how far it got, how it ended.</summary>
internal sealed class BulkJob(string id, string description, string queue)
{
    private int _done;

    public string Id => id;

    public string Description => description;

    /// <summary>The queue the operation works on, which its page links back to.</summary>
    public string Queue => queue;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public int Done => Volatile.Read(ref _done);

    public bool Finished { get; private set; }

    public string? Error { get; private set; }

    public void Report(int done) => Volatile.Write(ref _done, done);

    public void Finish(int done, string? error)
    {
        Volatile.Write(ref _done, done);
        Error = error;
        Finished = true;
    }
}

using System;
using System.Collections.Generic;

namespace TypedTasks.Celery;

/// <summary>How the .NET worker consumes Celery queues.</summary>
public sealed class CeleryWorkerOptions
{
    /// <summary>The queues to consume, in the order they are looked at (Celery's <c>-Q</c>). Empty: the default queue.</summary>
    public IList<string> Queues { get; } = [];

    /// <summary>How many tasks run at once. Default: the processor count.</summary>
    public int Concurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Stores STARTED when a task starts, as Celery's <c>task_track_started</c>. Default false.</summary>
    public bool TrackStarted { get; set; }

    /// <summary>How often expired unacknowledged messages are looked for and put back. Default: a tenth of the visibility timeout, at most 10 seconds.</summary>
    public TimeSpan? RestoreInterval { get; set; }

    /// <summary>
    /// The longest an idle worker waits before it looks at its queues again. Default 500 ms. For a
    /// second after its last message a worker looks at least every 20 ms (a task sent right after
    /// another starts at once); then its looks thin out to this, so an idle worker costs Redis two
    /// calls a second, not fifty.
    /// </summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(500);
}

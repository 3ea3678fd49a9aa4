namespace TypedTasks.Celery.Worker;

/// <summary>One fetched message: its queue, the exact string popped, and its delivery tag (empty when it was dead-lettered at fetch).</summary>
internal sealed record Delivery(string Queue, string Raw, string Tag);

using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;

namespace TypedTasks;

/// <summary>
/// The progress of a task that declares an <see cref="IProgress{T}"/> parameter, read from any
/// process: <c>Tasks.Import.Progress(handle).GetLatestAsync()</c>. The latest value is stored
/// (not only published), so a reader that comes late, or reconnects, still sees it.
/// </summary>
/// <typeparam name="T">The type the task reports.</typeparam>
public sealed class TaskProgress<T>
{
    /// <summary>The default pause between two reads of <see cref="WatchAsync"/>.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(250);

    private readonly TaskClient _client;

    /// <summary>The progress of the task <paramref name="id"/>, read through <paramref name="client"/>.</summary>
    public TaskProgress(TaskClient client, string id)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        _client = client;
        Id = id;
    }

    /// <summary>The task's id.</summary>
    public string Id { get; }

    /// <summary>The progress of the task a handle names; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static TaskProgress<T> Of(AsyncResult task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return new TaskProgress<T>(task.ReadingClient, task.Id);
    }

    /// <summary>The latest value the task reported, with the run that reported it; null before its first report.</summary>
    public async Task<ProgressUpdate<T>?> GetLatestAsync(CancellationToken cancellationToken = default)
    {
        var stored = await _client.Store.GetProgressAsync(Id, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        try
        {
            return new ProgressUpdate<T>(MessagePackSerializer.Deserialize<T>(stored.Value, TaskSerializer.Options, cancellationToken), stored.Attempt, stored.UpdatedAt);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new InvalidOperationException($"The progress of task {Id} cannot be read as {typeof(T)}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Each new value as the task reports it (a reader sees the latest at each read, not every
    /// report: the worker keeps one write per interval), until the task ends; then the enumeration
    /// ends after the last value. Throws <see cref="TaskNotFoundException"/> when the store holds
    /// nothing for the task.
    /// </summary>
    /// <param name="pollInterval">The pause between two reads; <see cref="DefaultPollInterval"/> when null.</param>
    /// <param name="cancellationToken">Ends the watch.</param>
    public async IAsyncEnumerable<ProgressUpdate<T>> WatchAsync(TimeSpan? pollInterval = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pause = pollInterval ?? DefaultPollInterval;
        ArgumentOutOfRangeException.ThrowIfLessThan(pause, TimeSpan.FromMilliseconds(10), nameof(pollInterval));
        (int Attempt, DateTimeOffset At)? seen = null;
        while (true)
        {
            // The state first: progress read after it includes everything written before the end.
            var info = await _client.GetInfoAsync(Id, cancellationToken).ConfigureAwait(false) ?? throw new TaskNotFoundException(Id, lost: false);
            var latest = await GetLatestAsync(cancellationToken).ConfigureAwait(false);
            if (latest is not null && seen != (latest.Attempt, latest.UpdatedAt))
            {
                seen = (latest.Attempt, latest.UpdatedAt);
                yield return latest;
            }

            if (info.State.IsFinal())
            {
                yield break;
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
        }
    }
}

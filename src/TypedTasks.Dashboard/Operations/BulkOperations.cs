using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Dashboard.Operations;

/// <summary>
/// Runs "retry all", "delete all" and "purge" on the server, in the inspector's batches, so that
/// the browser's request returns at once and a page shows the progress; the last 100 are kept.
/// </summary>
internal sealed class BulkOperations(ILogger logger, CancellationToken stopping)
{
    private const int Kept = 100;
    private readonly ConcurrentDictionary<string, BulkJob> _jobs = new(StringComparer.Ordinal);

    public BulkJob? Find(string? id) => id is not null && _jobs.TryGetValue(id, out var job) ? job : null;

    public BulkJob Start(string description, string queue, Func<IProgress<int>, CancellationToken, Task<int>> work)
    {
        var job = new BulkJob(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), description, queue);
        _jobs[job.Id] = job;
        foreach (var old in _jobs.Values.Where(j => j.Finished).OrderBy(j => j.StartedAt).Take(Math.Max(0, _jobs.Count - Kept)))
        {
            _jobs.TryRemove(old.Id, out _);
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var done = await work(new Progress(job), stopping).ConfigureAwait(false);
                job.Finish(done, null);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Dashboard operation '{Description}' stopped after {Done} task(s).", description, job.Done);
                job.Finish(job.Done, ex.Message);
            }
        }, CancellationToken.None);
        return job;
    }

    /// <summary>Reports synchronously: System.Progress would post to a context and lag behind the work.</summary>
    private sealed class Progress(BulkJob job) : IProgress<int>
    {
        public void Report(int value) => job.Report(value);
    }
}

using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Worker;

/// <summary>A run's progress reporter, whatever its type: the worker writes its last report before the run's final state.</summary>
internal interface IProgressFlush
{
    Task FlushAsync(CancellationToken cancellationToken);
}

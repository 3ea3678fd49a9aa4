using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Store;
using TypedTasks.Testing.StoreConformance;

namespace TypedTasks.Tests.Store;

public sealed class InMemoryTaskStoreConformanceTests : TaskStoreConformance
{
    protected override Task<ITaskStore> CreateStoreAsync(StoreSettings settings)
        => Task.FromResult<ITaskStore>(new InMemoryTaskStore(settings.ResultTtl, options: new InMemoryTaskStoreOptions
        {
            LeaseDuration = settings.LeaseDuration,
            IdleFetchInterval = settings.IdleFetchInterval,
            WorkerTimeout = settings.WorkerTimeout,
            RecentIndexSize = settings.RecentCap,
            FailedIndexSize = settings.FailedCap,
        }));
}

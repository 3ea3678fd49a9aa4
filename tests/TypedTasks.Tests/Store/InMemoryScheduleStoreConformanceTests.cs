using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Store;
using TypedTasks.Testing.StoreConformance;

namespace TypedTasks.Tests.Store;

public sealed class InMemoryScheduleStoreConformanceTests : ScheduleStoreConformance
{
    protected override Task<ITaskStore> CreateStoreAsync() => Task.FromResult<ITaskStore>(new InMemoryTaskStore());
}

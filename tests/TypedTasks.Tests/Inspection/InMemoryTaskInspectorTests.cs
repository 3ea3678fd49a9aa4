using System.Threading.Tasks;
using TypedTasks.InMemory;
using TypedTasks.Store;
using TypedTasks.Testing.Inspection;

namespace TypedTasks.Tests.Inspection;

public sealed class InMemoryTaskInspectorTests : TaskInspectorTests
{
    protected override Task<ITaskStore> CreateStoreAsync() => Task.FromResult<ITaskStore>(new InMemoryTaskStore());
}

using System;

namespace TypedTasks.Store;

/// <summary>
/// Creates a task store from a connection string. The TypedTasks.Redis package provides one, found
/// by name when <c>TypedTasks:Redis</c> is configured and no store is chosen in code.
/// </summary>
public interface ITaskStoreFactory
{
    /// <summary>Creates the store.</summary>
    ITaskStore Create(IServiceProvider services, string connectionString, TimeSpan resultTtl);
}

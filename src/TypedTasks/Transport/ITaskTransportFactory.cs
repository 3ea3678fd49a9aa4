using System;

namespace TypedTasks.Transport;

/// <summary>
/// Creates a transport from a connection string. The TypedTasks.Redis package provides one, found
/// by name when <c>TypedTasks:Redis</c> is configured and no transport is chosen in code.
/// </summary>
public interface ITaskTransportFactory
{
    /// <summary>Creates the transport.</summary>
    TaskTransport Create(IServiceProvider services, string connectionString, TimeSpan resultTtl);
}

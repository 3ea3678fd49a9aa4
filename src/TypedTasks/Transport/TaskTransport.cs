using System;
using System.Threading.Tasks;

namespace TypedTasks.Transport;

/// <summary>A broker and a result backend that work together, and whether this transport disposes them.</summary>
public sealed class TaskTransport : IAsyncDisposable
{
    private readonly bool _ownsParts;

    /// <summary>Creates a transport.</summary>
    /// <param name="broker">Where messages go.</param>
    /// <param name="results">Where states and results go.</param>
    /// <param name="ownsParts">Whether disposing the transport disposes both.</param>
    public TaskTransport(ITaskBroker broker, IResultBackend results, bool ownsParts = true)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(results);
        Broker = broker;
        Results = results;
        _ownsParts = ownsParts;
    }

    /// <summary>Where messages go.</summary>
    public ITaskBroker Broker { get; }

    /// <summary>Where states and results go.</summary>
    public IResultBackend Results { get; }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_ownsParts)
        {
            // The backend first: a broker may own the connection both use.
            await Results.DisposeAsync().ConfigureAwait(false);
            await Broker.DisposeAsync().ConfigureAwait(false);
        }
    }
}

using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace TypedTasks.Celery;

/// <summary>Makes the registered client current when the host starts.</summary>
internal sealed class CurrentCeleryClient(CeleryClient client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        client.MakeCurrent();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TypedTasks;

/// <summary>Health checks for the task store's connectivity and the worker's liveness.</summary>
public static class TypedTasksHealthChecks
{
    /// <summary>
    /// Adds <c>typedtasks-broker</c> (the task store answers a ping within <paramref name="timeout"/>,
    /// 5 s by default) and, when this host runs a worker, <c>typedtasks-worker</c> (it runs, and
    /// its fetches have not been failing for longer than <paramref name="failingFor"/>, 30 s by
    /// default; failing for less is Degraded).
    /// </summary>
    public static IHealthChecksBuilder AddTypedTasks(this IHealthChecksBuilder builder, TimeSpan? timeout = null, TimeSpan? failingFor = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var list = tags ?? ["typedtasks"];
        builder.Add(new HealthCheckRegistration("typedtasks-broker", sp => new BrokerHealthCheck(sp.GetRequiredService<TaskClient>(), timeout ?? TimeSpan.FromSeconds(5)), HealthStatus.Unhealthy, list));
        builder.Add(new HealthCheckRegistration("typedtasks-worker", sp => new WorkerHealthCheck(sp.GetService<WorkerStatus>(), sp.GetRequiredService<TimeProvider>(), failingFor ?? TimeSpan.FromSeconds(30)), HealthStatus.Unhealthy, list));
        return builder;
    }

    private sealed class BrokerHealthCheck(TaskClient client, TimeSpan timeout) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await client.Store.PingAsync(cancellationToken).AsTask().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy($"The task store answered in {clock.Elapsed.TotalMilliseconds:0.0} ms.");
            }
            catch (Exception ex) when (ex is Transport.TransportException or TimeoutException or ObjectDisposedException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"The task store cannot be reached: {ex.Message}", ex);
            }
        }
    }

    private sealed class WorkerHealthCheck(WorkerStatus? status, TimeProvider time, TimeSpan failingFor) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var data = new Dictionary<string, object>();
            HealthCheckResult result;
            if (status is null)
            {
                result = HealthCheckResult.Healthy("This host runs no worker.");
            }
            else
            {
                data["completed"] = status.Completed;
                if (!status.Running)
                {
                    result = new HealthCheckResult(context.Registration.FailureStatus, "The worker is not running.", data: data);
                }
                else if (status.FailingSince is { } since)
                {
                    var failing = time.GetUtcNow() - since;
                    data["failingFor"] = failing.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
                    result = failing > failingFor
                        ? new HealthCheckResult(context.Registration.FailureStatus, $"The worker has not fetched for {failing:c}: {status.LastError?.Message}", status.LastError, data)
                        : HealthCheckResult.Degraded($"The worker's fetches have been failing for {failing:c}: {status.LastError?.Message}", status.LastError, data);
                }
                else
                {
                    result = HealthCheckResult.Healthy("The worker is running.", data);
                }
            }

            return Task.FromResult(result);
        }
    }
}

using System;
using Microsoft.Extensions.DependencyInjection;

namespace TypedTasks.Dashboard;

/// <summary>Registers what the dashboard needs beyond TypedTasks itself.</summary>
public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds the dashboard's services (the antiforgery tokens its operations' forms carry). Call it
    /// beside <c>AddTypedTasks</c>, then mount the dashboard with <c>app.MapTypedTasksDashboard("/tasks")</c>.
    /// </summary>
    public static IServiceCollection AddTypedTasksDashboard(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // The app's own settings, if it has any, are kept: the dashboard only reads the tokens.
        services.AddAntiforgery();
        return services;
    }
}

using System;

namespace TypedTasks.Dashboard;

/// <summary>Settings of one mounted dashboard (<c>app.MapTypedTasksDashboard("/tasks", o => ...)</c>).</summary>
public sealed class DashboardOptions
{
    /// <summary>
    /// Serve requests from other machines although no authorization policy is attached. Off by
    /// default: until <c>.RequireAuthorization(...)</c> is called on the dashboard, or this is set,
    /// only requests from the loopback address are answered (others get 403 with the reason).
    /// </summary>
    public bool AllowRemoteRequests { get; set; }

    /// <summary>Show, never change: retry, delete, cancel and purge are hidden and refused (403).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// An authorization policy that operations (every POST) must also satisfy, on top of the
    /// dashboard's own: for example viewers may look, only operators may retry and delete.
    /// </summary>
    public string? OperationsPolicy { get; set; }

    /// <summary>How often the live view is refreshed from the store; one read serves every open browser. Default 2 s.</summary>
    public TimeSpan LiveInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Tasks per page in a queue's lists. Default 50, at most 500.</summary>
    public int PageSize { get; set; } = 50;

    /// <summary>The title in the page header. Default "TypedTasks".</summary>
    public string Title { get; set; } = "TypedTasks";

    internal void Validate()
    {
        if (LiveInterval < TimeSpan.FromMilliseconds(100) || LiveInterval > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(nameof(LiveInterval), LiveInterval, "DashboardOptions.LiveInterval must be from 100 ms to 10 minutes.");
        }

        if (PageSize is < 1 or > 500)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, "DashboardOptions.PageSize must be from 1 to 500.");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(Title, nameof(Title));
        if (OperationsPolicy is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(OperationsPolicy, nameof(OperationsPolicy));
        }
    }
}

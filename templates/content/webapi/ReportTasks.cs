using TypedTasks;

namespace TypedTasksWebApi;

/// <summary>What <see cref="ReportTasks.BuildReport"/> returns; records travel with no attributes.</summary>
public sealed record Report(string Title, int Lines);

/// <summary>
/// The work the API hands to a worker instead of doing it in the request. The TypedTasks generator
/// gives each [Task] method a typed proxy in this project's root namespace: Tasks.BuildReport.
/// </summary>
public static class ReportTasks
{
    [Task(MaxRetries = 3, Timeout = "00:01:00")]
    public static async Task<Report> BuildReport(string title, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), ct);   // the real work goes here
        return new Report(title, title.Length * 10);
    }
}

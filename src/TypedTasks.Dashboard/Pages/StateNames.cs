using System;

namespace TypedTasks.Dashboard.Pages;

/// <summary>The states in the order a task passes them, and how the pages name them in links.</summary>
internal static class StateNames
{
    public static readonly TaskState[] All =
        [TaskState.Pending, TaskState.Scheduled, TaskState.Started, TaskState.Retrying, TaskState.Succeeded, TaskState.Failed, TaskState.Canceled, TaskState.Expired];

    public static string Css(TaskState state) => state.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out TaskState state)
    {
        state = TaskState.Pending;
        return text is { Length: > 0 } && !char.IsDigit(text[0]) && Enum.TryParse(text, ignoreCase: true, out state) && Enum.IsDefined(state);
    }
}

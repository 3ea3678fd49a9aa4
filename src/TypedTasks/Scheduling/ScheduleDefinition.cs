using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace TypedTasks.Scheduling;

/// <summary>
/// What a schedule fires and when, as kept in the store: a JSON object written in one fixed field
/// order, so that the same schedule always has the same text (the store compares texts to tell
/// an unchanged schedule from a changed one, which gets a new generation).
/// </summary>
/// <param name="Task">The task's name.</param>
/// <param name="Queue">The queue the fires go to.</param>
/// <param name="Arguments">The call's arguments: one MessagePack array.</param>
/// <param name="Priority">The priority of the fires.</param>
/// <param name="Expires">How long after its fire time a run that has not started expires, or null.</param>
/// <param name="Cron">The cron expression.</param>
/// <param name="TimeZone">The zone id it is read in.</param>
/// <param name="Misfire">What to do with missed fire times.</param>
/// <param name="Overlap">What to do while the previous run is not final.</param>
/// <param name="Declared">Whether it comes from a <see cref="PeriodicAttribute"/> (named after its task) rather than <see cref="ITaskSchedules.UpsertAsync"/>.</param>
internal sealed record ScheduleDefinition(
    string Task,
    string Queue,
    byte[] Arguments,
    int Priority,
    TimeSpan? Expires,
    string Cron,
    string TimeZone,
    MisfirePolicy Misfire,
    OverlapPolicy Overlap,
    bool Declared)
{
    /// <summary>The arguments of a task that takes none: an empty MessagePack array.</summary>
    public static readonly byte[] NoArguments = [0x90];

    /// <summary>The schedule of a <see cref="PeriodicAttribute"/> task.</summary>
    public static ScheduleDefinition Of(TaskDescriptor task, PeriodicSpec spec)
        => new(task.Name, task.Queue, NoArguments, 0, task.Expires, spec.Cron, spec.TimeZone, spec.Misfire, spec.Overlap, Declared: true);

    public string Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("task", Task);
            writer.WriteString("queue", Queue);
            writer.WriteBase64String("args", Arguments);
            writer.WriteNumber("priority", Priority);
            if (Expires is { } expires)
            {
                writer.WriteNumber("expiresMs", (long)expires.TotalMilliseconds);
            }

            writer.WriteString("cron", Cron);
            writer.WriteString("zone", TimeZone);
            writer.WriteNumber("misfire", (int)Misfire);
            writer.WriteNumber("overlap", (int)Overlap);
            writer.WriteBoolean("declared", Declared);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The definition of <paramref name="stored"/>, or null with <paramref name="problem"/> when the store or the definition cannot be read.</summary>
    public static ScheduleDefinition? Of(Store.StoredSchedule stored, out string? problem)
    {
        if (stored.Problem is { } unreadable)
        {
            problem = unreadable;
            return null;
        }

        return Decode(stored.Definition, out problem);
    }

    /// <summary>The definition in <paramref name="text"/>, or null with <paramref name="problem"/> when it cannot be read.</summary>
    public static ScheduleDefinition? Decode(string text, out string? problem)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            problem = null;
            return new ScheduleDefinition(
                root.GetProperty("task").GetString()!,
                root.GetProperty("queue").GetString()!,
                root.GetProperty("args").GetBytesFromBase64(),
                root.GetProperty("priority").GetInt32(),
                root.TryGetProperty("expiresMs", out var expires) ? TimeSpan.FromMilliseconds(expires.GetInt64()) : null,
                root.GetProperty("cron").GetString()!,
                root.GetProperty("zone").GetString()!,
                (MisfirePolicy)root.GetProperty("misfire").GetInt32(),
                (OverlapPolicy)root.GetProperty("overlap").GetInt32(),
                root.GetProperty("declared").GetBoolean());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            problem = $"its definition cannot be read ({ex.Message})";
            return null;
        }
    }
}

using System;
using System.Text.Json.Nodes;

namespace TypedTasks.Celery.Protocol;

/// <summary>What a producer says of one task message.</summary>
internal sealed record TaskMessage(string Name, string Id, string Queue, JsonArray Args, JsonObject Kwargs)
{
    public DateTimeOffset? Eta { get; init; }

    public DateTimeOffset? Expires { get; init; }

    public int Retries { get; init; }

    public string? Group { get; init; }

    public string? RootId { get; init; }

    public string? ParentId { get; init; }

    public string ReplyTo { get; init; } = "";

    public string Origin { get; init; } = $"dotnet-{Environment.ProcessId}@{Environment.MachineName}";
}

using System;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TypedTasks.Celery.Protocol;

/// <summary>
/// The JSON Celery's result backend stores at <c>celery-task-meta-&lt;id&gt;</c>: status, result (an
/// exception as exc_type, exc_message, exc_module for FAILURE, RETRY and REVOKED), traceback,
/// children, date_done, task_id, and the request's parent_id and group_id when it has them.
/// </summary>
internal static class ResultMeta
{
    public const string KeyPrefix = "celery-task-meta-";

    public static string Key(string id) => KeyPrefix + id;

    /// <summary>The meta of a finished or retrying task, as Celery's backend writes it.</summary>
    public static string Create(string id, string status, JsonNode? result, string? traceback, CeleryMessage? request, DateTime now)
    {
        var meta = new JsonObject
        {
            ["status"] = status,
            ["result"] = result,
            ["traceback"] = traceback,
            ["children"] = new JsonArray(),
            // Celery writes date_done only for ready states, as a naive UTC isoformat.
            ["date_done"] = CeleryStates.IsReady(status) ? now.ToString("yyyy-MM-ddTHH:mm:ss.ffffff", CultureInfo.InvariantCulture) : null,
        };
        if (request?.Group is { } group)
        {
            meta["group_id"] = group;
        }

        if (request?.ParentId is { } parent)
        {
            meta["parent_id"] = parent;
        }

        meta["task_id"] = id;
        return meta.ToJsonString();
    }

    /// <summary>An exception the way Celery's JSON backends carry it.</summary>
    public static JsonObject Exception(string type, string message, string module)
        => new() { ["exc_type"] = type, ["exc_message"] = new JsonArray(message), ["exc_module"] = module };

    /// <summary>A .NET exception as a Celery one: the type's name, its message, and its namespace as the module.</summary>
    public static JsonObject Exception(Exception error)
    {
        var type = error.GetType();
        return Exception(type.Name, error.Message, type.Namespace ?? "dotnet");
    }

    /// <summary>The readable message of a stored exception: its args joined, as Python's str(exc) shows one argument.</summary>
    public static string ExceptionMessage(JsonNode? result)
    {
        var message = (result as JsonObject)?["exc_message"];
        return message switch
        {
            JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue(out string? text) => text,
            JsonArray many => many.ToJsonString(),
            JsonValue v when v.TryGetValue(out string? text) => text,
            null => "",
            _ => message.ToJsonString(),
        };
    }

    /// <summary>The full type name of a stored exception: module and type, as <c>builtins.ValueError</c>.</summary>
    public static string ExceptionType(JsonNode? result)
    {
        var exception = result as JsonObject;
        var type = exception?["exc_type"]?.GetValue<string>() ?? "Exception";
        return exception?["exc_module"] is JsonValue module && module.TryGetValue(out string? name) ? $"{name}.{type}" : type;
    }

    /// <summary>Reads a stored meta; null when it is not Celery's JSON.</summary>
    public static JsonObject? Parse(string? stored)
    {
        if (stored is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(stored) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

using System;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TypedTasks.Celery.Protocol;

/// <summary>
/// Writes kombu envelopes the way Celery 5.2's <c>as_task_v2</c> and kombu's virtual channel do:
/// protocol 2 headers, properties with a fresh delivery tag and the anonymous exchange with the
/// queue as routing key, and the JSON body <c>[args, kwargs, embed]</c> base64-encoded.
/// </summary>
internal static class Envelope
{
    /// <summary>A task message.</summary>
    public static string Task(TaskMessage message)
    {
        var body = new JsonArray(
            message.Args,
            message.Kwargs,
            new JsonObject { ["callbacks"] = null, ["errbacks"] = null, ["chain"] = null, ["chord"] = null });
        var headers = new JsonObject
        {
            ["lang"] = "py",
            ["task"] = message.Name,
            ["id"] = message.Id,
            ["shadow"] = null,
            ["eta"] = Iso(message.Eta),
            ["expires"] = Iso(message.Expires),
            ["group"] = message.Group,
            ["group_index"] = null,
            ["retries"] = message.Retries,
            ["timelimit"] = new JsonArray(null, null),
            ["root_id"] = message.RootId ?? message.Id,
            ["parent_id"] = message.ParentId,
            ["argsrepr"] = message.Args.ToJsonString(),
            ["kwargsrepr"] = message.Kwargs.ToJsonString(),
            ["origin"] = message.Origin,
            ["ignore_result"] = false,
        };
        var properties = new JsonObject
        {
            ["correlation_id"] = message.Id,
            ["reply_to"] = message.ReplyTo,
            ["delivery_mode"] = 2,
            ["delivery_info"] = new JsonObject { ["exchange"] = "", ["routing_key"] = message.Queue },
            ["priority"] = 0,
            ["body_encoding"] = "base64",
            ["delivery_tag"] = Guid.NewGuid().ToString(),
        };
        if (message.Expires is { } expires)
        {
            // kombu sets the AMQP expiration (milliseconds) from the expiry as Celery does.
            var ms = Math.Max(0, (long)(expires - DateTimeOffset.UtcNow).TotalMilliseconds);
            properties["expiration"] = ms.ToString(CultureInfo.InvariantCulture);
        }

        return Wrap(Encoding.UTF8.GetBytes(body.ToJsonString()), headers, properties);
    }

    /// <summary>A broadcast control command (revoke) for the <c>celery.pidbox</c> fanout exchange.</summary>
    public static string Control(string method, JsonObject arguments, TimeSpan expiresIn)
    {
        var body = new JsonObject
        {
            ["method"] = method,
            ["arguments"] = arguments,
            ["destination"] = null,
            ["pattern"] = null,
            ["matcher"] = null,
        };
        var headers = new JsonObject
        {
            ["clock"] = 1,
            ["expires"] = DateTimeOffset.UtcNow.Add(expiresIn).ToUnixTimeMilliseconds() / 1000.0,
        };
        var properties = new JsonObject
        {
            ["delivery_mode"] = 2,
            ["delivery_info"] = new JsonObject { ["exchange"] = "celery.pidbox", ["routing_key"] = "" },
            ["priority"] = 0,
            ["body_encoding"] = "base64",
            ["delivery_tag"] = Guid.NewGuid().ToString(),
        };
        return Wrap(Encoding.UTF8.GetBytes(body.ToJsonString()), headers, properties);
    }

    /// <summary>The same message sent again, as Celery's retry does: same id and body, retries counted, a new ETA and delivery tag.</summary>
    public static string Retry(CeleryMessage original, DateTimeOffset eta)
    {
        var copy = (JsonObject)original.Envelope.DeepClone();
        var headers = (JsonObject)copy["headers"]!;
        headers["retries"] = original.Retries + 1;
        headers["eta"] = Iso(eta);
        headers.Remove("redelivered");
        var properties = (JsonObject)copy["properties"]!;
        properties["delivery_tag"] = Guid.NewGuid().ToString();
        if (properties["delivery_info"] is JsonObject info)
        {
            info.Remove("redelivered");
        }

        return copy.ToJsonString();
    }

    private static string Wrap(byte[] body, JsonObject headers, JsonObject properties)
        => new JsonObject
        {
            ["body"] = Convert.ToBase64String(body),
            ["content-encoding"] = "utf-8",
            ["content-type"] = ContentTypes.Json,
            ["headers"] = headers,
            ["properties"] = properties,
        }.ToJsonString();

    private static string? Iso(DateTimeOffset? at)
        => at?.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
}

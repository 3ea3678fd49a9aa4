using System;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace TypedTasks.Celery.Protocol;

/// <summary>
/// One kombu envelope as the Redis transport carries it: JSON with the body base64-encoded, Celery's
/// protocol 2 headers (task, id, retries, eta, expires...) beside it. <see cref="Raw"/> is the exact
/// string popped, which is what restores and dead letters keep.
/// </summary>
internal sealed class CeleryMessage
{
    private CeleryMessage(string raw, JsonObject envelope)
    {
        Raw = raw;
        Envelope = envelope;
    }

    public string Raw { get; }

    public JsonObject Envelope { get; }

    public string DeliveryTag { get; private init; } = "";

    public string Exchange { get; private init; } = "";

    public string RoutingKey { get; private init; } = "";

    public string? TaskName { get; private init; }

    public string? Id { get; private init; }

    public int Retries { get; private init; }

    public DateTimeOffset? Eta { get; private init; }

    public DateTimeOffset? Expires { get; private init; }

    public string? ParentId { get; private init; }

    public string? RootId { get; private init; }

    public string? Group { get; private init; }

    public string ContentType { get; private init; } = "";

    /// <summary>Reads the envelope; throws <see cref="RefusedMessageException"/> for one that is not a kombu envelope.</summary>
    public static CeleryMessage Parse(string raw)
    {
        JsonObject envelope;
        try
        {
            envelope = JsonNode.Parse(raw) as JsonObject ?? throw new RefusedMessageException("the message is not a JSON object (not a kombu envelope)");
        }
        catch (JsonException ex)
        {
            throw new RefusedMessageException($"the message is not JSON (not a kombu envelope): {ex.Message}");
        }

        var properties = envelope["properties"] as JsonObject;
        var delivery = properties?["delivery_info"] as JsonObject;
        var headers = envelope["headers"] as JsonObject;
        return new CeleryMessage(raw, envelope)
        {
            DeliveryTag = Text(properties?["delivery_tag"]) ?? "",
            Exchange = Text(delivery?["exchange"]) ?? "",
            RoutingKey = Text(delivery?["routing_key"]) ?? "",
            ContentType = Text(envelope["content-type"]) ?? "",
            TaskName = Text(headers?["task"]),
            Id = Text(headers?["id"]),
            Retries = headers?["retries"] is JsonValue r && r.TryGetValue(out int retries) ? retries : 0,
            Eta = Time(headers?["eta"]),
            Expires = Time(headers?["expires"]),
            ParentId = Text(headers?["parent_id"]),
            RootId = Text(headers?["root_id"]),
            Group = Text(headers?["group"]),
        };
    }

    /// <summary>
    /// The positional and keyword arguments of a protocol 2 body, as JSON whatever the serializer.
    /// Refuses pickle, YAML and anything else that is not JSON or msgpack, and protocol 1 messages.
    /// </summary>
    public (JsonArray Args, JsonObject Kwargs) ReadArguments()
    {
        if (TaskName is null || Id is null)
        {
            throw new RefusedMessageException("the message has no 'task' and 'id' headers: it is not Celery message protocol 2 (protocol 1 is not supported)", "ContentDisallowed");
        }

        if (ContentType is not (ContentTypes.Json or ContentTypes.MessagePack))
        {
            throw new RefusedMessageException($"content type '{ContentType}' is refused: only {ContentTypes.Json} and {ContentTypes.MessagePack} are accepted, never pickle, which would run code chosen by the sender");
        }

        var bytes = BodyBytes();
        JsonNode? body;
        try
        {
            body = ContentType == ContentTypes.Json
                ? JsonNode.Parse(bytes)
                : JsonNode.Parse(MessagePackSerializer.ConvertToJson(bytes, MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData)));
        }
        catch (Exception ex) when (ex is JsonException or MessagePackSerializationException or System.IO.EndOfStreamException)
        {
            throw new RefusedMessageException($"the body cannot be read as {ContentType}: {ex.Message}");
        }

        if (body is not JsonArray { Count: >= 2 } parts || parts[0] is not JsonArray args || parts[1] is not JsonObject kwargs)
        {
            throw new RefusedMessageException("the body is not [args, kwargs, embed] (Celery message protocol 2)");
        }

        return (args, kwargs);
    }

    private byte[] BodyBytes()
    {
        var body = Text(Envelope["body"]) ?? throw new RefusedMessageException("the envelope has no string body");
        var encoding = Text((Envelope["properties"] as JsonObject)?["body_encoding"]);
        if (encoding is null)
        {
            return Encoding.UTF8.GetBytes(body);
        }

        if (encoding != "base64")
        {
            throw new RefusedMessageException($"body encoding '{encoding}' is not supported (kombu's Redis transport uses base64)");
        }

        try
        {
            return Convert.FromBase64String(body);
        }
        catch (FormatException ex)
        {
            throw new RefusedMessageException($"the body is not valid base64: {ex.Message}");
        }
    }

    private static string? Text(JsonNode? node)
        => node is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private static DateTimeOffset? Time(JsonNode? node)
    {
        if (Text(node) is not { } text)
        {
            return null;
        }

        // Celery writes isoformat(); a naive time is UTC, as Celery reads it with a UTC timezone.
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new RefusedMessageException($"'{text}' is not an ISO 8601 time");
    }
}

namespace TypedTasks.Celery.Protocol;

/// <summary>The content types kombu registers for the two serializers this library speaks.</summary>
internal static class ContentTypes
{
    public const string Json = "application/json";
    public const string MessagePack = "application/x-msgpack";
}

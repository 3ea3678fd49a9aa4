using System.Text.Json.Serialization;

namespace TypedTasks.Redis.Store;

/// <summary>The JSON of a worker's running ids (P:worker:&lt;id&gt; field <c>running</c>), without reflection.</summary>
[JsonSerializable(typeof(string[]))]
internal sealed partial class RunningJson : JsonSerializerContext
{
}

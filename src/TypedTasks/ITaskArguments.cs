using System.ComponentModel;
using MessagePack;

namespace TypedTasks;

/// <summary>
/// The arguments of one enqueue, written as a MessagePack array. Generated proxies implement it
/// with a struct per task, so that an enqueue neither boxes nor allocates a closure.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface ITaskArguments
{
    /// <summary>Writes the arguments as one MessagePack array.</summary>
    void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options);
}

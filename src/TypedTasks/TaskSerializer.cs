using System.ComponentModel;
using MessagePack;
using MessagePack.Resolvers;

namespace TypedTasks;

/// <summary>
/// The MessagePack settings for task arguments and results, built once: attributed
/// <c>[MessagePackObject]</c> types, plain public classes and records (contractless), the standard
/// collections, and the untrusted-data security profile. The typeless resolver is never used, so
/// no payload can name a type to instantiate.
/// </summary>
public static class TaskSerializer
{
    /// <summary>The options every argument and result goes through.</summary>
    public static MessagePackSerializerOptions Options { get; } = MessagePackSerializerOptions.Standard
        .WithResolver(ContractlessStandardResolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Writes one value; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Write<T>(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        => options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);

    /// <summary>Reads one value; called by the generated dispatch table.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static T Read<T>(ref MessagePackReader reader, MessagePackSerializerOptions options)
        => options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);
}

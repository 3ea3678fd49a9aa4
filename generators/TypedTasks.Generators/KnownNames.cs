namespace TypedTasks.Generators;

/// <summary>Metadata names of runtime types the generator looks for; it never references the runtime assembly.</summary>
internal static class KnownNames
{
    public const string TaskAttribute = "TypedTasks.TaskAttribute";
    public const string CeleryTaskAttribute = "TypedTasks.Celery.CeleryTaskAttribute";
    public const string PeriodicAttribute = "TypedTasks.PeriodicAttribute";
    public const string TaskRegistryAttribute = "TypedTasks.TaskRegistryAttribute";
    public const string RuntimeAssembly = "TypedTasks";
    public const string CancellationToken = "System.Threading.CancellationToken";
    public const string TaskContext = "TypedTasks.TaskContext";
    public const string Progress = "System.IProgress`1";
    public const string Task = "System.Threading.Tasks.Task";
    public const string TaskOfT = "System.Threading.Tasks.Task`1";
    public const string ValueTask = "System.Threading.Tasks.ValueTask";
    public const string ValueTaskOfT = "System.Threading.Tasks.ValueTask`1";
    public const string MessagePackObjectAttribute = "MessagePack.MessagePackObjectAttribute";
    public const string MessagePackFormatterAttribute = "MessagePack.MessagePackFormatterAttribute";
    public const string UnionAttribute = "MessagePack.UnionAttribute";
    public const string KeyAttribute = "MessagePack.KeyAttribute";
    public const string IgnoreMemberAttribute = "MessagePack.IgnoreMemberAttribute";
    public const string SerializationConstructorAttribute = "MessagePack.SerializationConstructorAttribute";
    public const string DataContractAttribute = "System.Runtime.Serialization.DataContractAttribute";
    public const string DataMemberAttribute = "System.Runtime.Serialization.DataMemberAttribute";
    public const string IgnoreDataMemberAttribute = "System.Runtime.Serialization.IgnoreDataMemberAttribute";
    public const string Stream = "System.IO.Stream";
    public const string Exception = "System.Exception";
}

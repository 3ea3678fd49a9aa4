using System;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;

namespace TypedTasks.Tests.Support;

/// <summary>
/// A task of another application: its producer knows it, the workers of this test assembly do not
/// (it is in no generated registry). Sending it is what a second app on the same Redis and queue does.
/// </summary>
internal static class OtherApp
{
    public const string TaskName = "otherapp.invoice";

    public static TaskDescriptor Invoice(string queue = "default")
        => new(TaskName, queue, 0, null, null, null, _ => throw new InvalidOperationException("This task runs only in the other application."));

    public static Task<AsyncResult> SendAsync(TaskClient client, string queue = "default")
        => client.EnqueueAsync(Invoice(queue), default(NoArguments), null, CancellationToken.None);

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }
}

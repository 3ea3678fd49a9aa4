using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.Extensions.Logging;

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

    public static ValueTask<AsyncResult> SendAsync(TaskClient client, string queue = "default")
        => client.EnqueueAsync(Invoice(queue), default(NoArguments), null, CancellationToken.None);

    private readonly struct NoArguments : ITaskArguments
    {
        public void Write(ref MessagePackWriter writer, MessagePackSerializerOptions options) => writer.WriteArrayHeader(0);
    }
}

/// <summary>Keeps every message logged at Warning and above, and those of the client at Debug, for assertions.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<string> Warnings => [.. _entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message)];

    public IReadOnlyList<string> All => [.. _entries.Select(e => e.Message)];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner._entries.Enqueue((logLevel, formatter(state, exception)));
    }
}

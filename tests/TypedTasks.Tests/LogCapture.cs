using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Tests;

/// <summary>Keeps every log line of a host, so that a test can read what the worker told its operator.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => [.. _lines];

    /// <summary>The messages that contain every one of <paramref name="parts"/>.</summary>
    public IReadOnlyList<string> Matching(params string[] parts)
        => [.. _lines.Select(l => l.Message).Where(m => parts.All(p => m.Contains(p, StringComparison.Ordinal)))];

    public ILogger CreateLogger(string categoryName) => new Logger(_lines);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(LogLevel Level, string Message)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
            => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => lines.Enqueue((logLevel, formatter(state, exception)));
    }
}

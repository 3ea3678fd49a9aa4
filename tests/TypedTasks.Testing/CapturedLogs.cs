using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Testing;

/// <summary>
/// A logger provider that keeps every entry of a host, so that a test can read what the worker or
/// the client told its operator: by level, by content, or as the text a console logger prints.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>Every entry so far: level and formatted message.</summary>
    public IReadOnlyList<(LogLevel Level, string Message)> Lines => [.. _entries.Select(e => (e.Level, e.Message))];

    /// <summary>The messages so far.</summary>
    public IReadOnlyList<string> All => [.. _entries.Select(e => e.Message)];

    /// <summary>The messages logged at Warning and above.</summary>
    public IReadOnlyList<string> Warnings => [.. _entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message)];

    /// <summary>The entries as a console logger prints them: level, category, message, and the exception's full text when there is one.</summary>
    public IReadOnlyList<string> Entries => [.. _entries.Select(e => $"{e.Level} {e.Category}: {e.Message}" + (e.Exception is null ? "" : Environment.NewLine + e.Exception))];

    /// <summary>How many lines the entries so far take, stack traces included.</summary>
    public int LineCount => Entries.Sum(e => e.Split('\n').Length);

    /// <summary>The messages that contain every one of <paramref name="parts"/>.</summary>
    public IReadOnlyList<string> Matching(params string[] parts)
        => [.. All.Where(m => parts.All(p => m.Contains(p, StringComparison.Ordinal)))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
    }
}

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>A logger provider that keeps every entry as the text a console logger would print.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    /// <summary>The entries so far, each with its exception's full text when it has one.</summary>
    public IReadOnlyList<string> Entries => [.. _entries];

    /// <summary>How many lines the entries so far take, stack traces included.</summary>
    public int LineCount => Entries.Sum(e => e.Split('\n').Length);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner._entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)}" + (exception is null ? "" : Environment.NewLine + exception));
    }
}

using System;
using System.Diagnostics;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Celery.Tests;

/// <summary>A real <c>celery worker</c> process on one queue, started for a test and killed by PID at its end.</summary>
internal sealed class PythonWorker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PythonWorker(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Note(e.Data);
        process.ErrorDataReceived += (_, e) => Note(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts <c>celery -A proj worker</c> on <paramref name="queue"/> and waits (bounded) until it says it is ready.</summary>
    public static async Task<PythonWorker> StartAsync(string redisUrl, string queue, string pool = "solo", int concurrency = 1, string visibility = "3600")
    {
        var worker = new PythonWorker(Python.Start(
            redisUrl,
            ["-m", "celery", "-A", "proj", "worker", "-Q", queue, $"--pool={pool}", "-c", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-n", $"py-{Guid.NewGuid():N}@%h"],
            visibility));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await worker._ready.Task.WaitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            await worker.DisposeAsync();
            throw new TimeoutException($"the celery worker was not ready within 30 s: {worker.Log}");
        }

        return worker;
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Note(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        if (line.Contains(" ready.", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}

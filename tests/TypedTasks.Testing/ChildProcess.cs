using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace TypedTasks.Testing;

/// <summary>
/// A .NET program of the test output (a sample, a worker) run as a process of its own, with its
/// output captured, bounded waits, and a kill on dispose.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Line, TaskCompletionSource Seen)> _watches = [];

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>dotnet NAME.dll ARGS</c> from the test's output folder, in an empty working
    /// directory of its own: that is the program's content root, so it reads no appsettings.json
    /// that another program left in the shared output folder.
    /// </summary>
    public static ChildProcess Start(string assemblyName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var workingDirectory = Path.Combine(Path.GetTempPath(), "typedtasks-child-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workingDirectory);
        return StartProgram(Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"), workingDirectory, arguments, environment);
    }

    /// <summary>
    /// Starts <c>dotnet PROGRAM ARGS</c> for a program built anywhere (a project made by a test),
    /// in <paramref name="workingDirectory"/>, its content root.
    /// </summary>
    public static ChildProcess StartProgram(string programPath, string workingDirectory, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(programPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var child = new ChildProcess(Process.Start(start)!);
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until a line containing <paramref name="text"/> is printed.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan limit)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            _watches.Add((text, seen));
        }

        try
        {
            await seen.Task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"'{text}' was not printed within {limit}:\n{Output}");
        }
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="limit"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan limit)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(limit);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM: the program stops gracefully.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit(10_000);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var (text, seen) in _watches)
            {
                if (line.Contains(text, StringComparison.Ordinal))
                {
                    seen.TrySetResult();
                }
            }
        }
    }
}

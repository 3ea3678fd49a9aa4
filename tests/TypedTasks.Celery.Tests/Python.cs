using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Celery.Tests;

/// <summary>
/// Debian's Python with Celery (/usr/bin/python3 explicitly: another python3 may come first on
/// PATH), running the fixtures under python/. A missing Celery is a failure, never a skip:
/// scripts/test.sh installs python3-celery.
/// </summary>
internal static class Python
{
    public const string Executable = "/usr/bin/python3";

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "python");

    /// <summary>Runs python/call.py and returns the JSON line it prints; killed after <paramref name="limit"/>.</summary>
    public static async Task<JsonObject> CallAsync(string redisUrl, TimeSpan limit, params string[] arguments)
    {
        var (exit, output, error) = await RunAsync(redisUrl, limit, ["call.py", .. arguments]);
        Assert.True(exit == 0, $"call.py {string.Join(' ', arguments)} exited {exit}: {error}");
        var line = output.Trim().Split('\n')[^1];
        return JsonNode.Parse(line) as JsonObject ?? throw new InvalidOperationException($"call.py printed {output}");
    }

    public static async Task<(int Exit, string Output, string Error)> RunAsync(string redisUrl, TimeSpan limit, string[] arguments, string visibility = "3600")
    {
        using var process = Start(redisUrl, arguments, visibility);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python {string.Join(' ', arguments)} ran longer than {limit}: {await error}");
        }

        return (process.ExitCode, await output, await error);
    }

    public static Process Start(string redisUrl, string[] arguments, string visibility = "3600")
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: apt-get install -y python3-celery python3-redis (scripts/test.sh does it)");
        var info = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["CELERY_REDIS"] = redisUrl;
        info.Environment["CELERY_VISIBILITY"] = visibility;
        info.Environment["PYTHONPATH"] = Directory;
        info.Environment["PYTHONUNBUFFERED"] = "1";
        return Process.Start(info) ?? throw new InvalidOperationException("python did not start");
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Testing;

/// <summary>
/// A real redis-server on a free loopback port, started for the tests and killed by PID. A
/// missing redis-server is a failure, never a skip: scripts/test.sh installs it.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string[] _extraArguments;
    private readonly Func<ConfigurationOptions>? _probe;
    private Process? _process;

    private RedisServer(int port, string directory, string[] extraArguments, Func<ConfigurationOptions>? probe)
    {
        Port = port;
        _directory = directory;
        _extraArguments = extraArguments;
        _probe = probe;
    }

    public string Directory => _directory;

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public int? Pid => _process?.Id;

    /// <summary>Starts a server; <paramref name="durable"/> turns on the append-only file with fsync on every write.</summary>
    /// <param name="durable">Turns on the append-only file with fsync on every write.</param>
    /// <param name="probe">How to reach the server to know it is up (TLS, passwords); plain when null.</param>
    /// <param name="extraArguments">More redis-server arguments; {port} and {dir} are replaced.</param>
    public static async Task<RedisServer> StartAsync(bool durable = false, Func<int, string, ConfigurationOptions>? probe = null, params string[] extraArguments)
    {
        var directory = Path.Combine(Path.GetTempPath(), "typedtasks-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        string[] persistence = durable ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
        var port = FreePort();
        var arguments = extraArguments.Select(a => a.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{dir}", directory, StringComparison.Ordinal));
        var server = new RedisServer(port, directory, [.. persistence, .. arguments], probe is null ? null : () => probe(port, directory));
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Kills the server (SIGKILL) and starts it again on the same port and directory.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        Kill();
        await Task.Delay(downtime);
        await StartProcessAsync();
    }

    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    public async Task<ConnectionMultiplexer> ConnectAsync()
        => await ConnectionMultiplexer.ConnectAsync($"{Endpoint},abortConnect=false");

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }

        return ValueTask.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--dir", _directory, .. _extraArguments])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            _process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed; run scripts/test.sh, which installs it.", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var options = _probe?.Invoke() ?? ConfigurationOptions.Parse($"{Endpoint},connectTimeout=1000");
                options.AbortOnConnectFail = true;
                using var probe = await ConnectionMultiplexer.ConnectAsync(options);
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }
}

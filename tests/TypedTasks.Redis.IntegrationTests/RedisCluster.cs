using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// A three-master Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> on free
/// ports (their bus ports, port + 10000, free too), joined with <c>redis-cli --cluster create</c>.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    private readonly List<Process> _nodes = [];
    private string _directory = string.Empty;

    public int[] Ports { get; private set; } = [];

    public string Endpoint => string.Join(",", Ports.Select(p => $"127.0.0.1:{p}"));

    public async Task InitializeAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "typedtasks-cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        Ports = FreeClusterPorts(3);
        foreach (var port in Ports)
        {
            var dir = Directory.CreateDirectory(Path.Combine(_directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            _nodes.Add(Start("redis-server", dir, "--port", $"{port}", "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no", "--dir", dir));
        }

        foreach (var port in Ports)
        {
            await WaitForPortAsync(port);
        }

        var create = Start("redis-cli", _directory, ["--cluster", "create", .. Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
        var output = await create.StandardOutput.ReadToEndAsync();
        await create.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed:\n" + output + await create.StandardError.ReadToEndAsync());
        }

        // Wait until every node sees the cluster as ok.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Endpoint + ",allowAdmin=true");
        while (true)
        {
            var states = await Task.WhenAll(Ports.Select(async p => (string?)await connection.GetServer("127.0.0.1", p).ExecuteAsync("CLUSTER", "INFO")));
            if (states.All(s => s?.Contains("cluster_state:ok", StringComparison.Ordinal) == true))
            {
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The cluster did not reach cluster_state:ok.");
            }

            await Task.Delay(100);
        }
    }

    public Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (!node.HasExited)
            {
                node.Kill();
                node.WaitForExit(10_000);
            }

            node.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }

        return Task.CompletedTask;
    }

    private static Process Start(string file, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Ports below 55535 whose cluster bus port (port + 10000) is free as well.</summary>
    private static int[] FreeClusterPorts(int count)
    {
        var ports = new List<int>();
        for (var attempt = 0; ports.Count < count && attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(20000, 45000);
            if (!ports.Contains(port) && IsFree(port) && IsFree(port + 10000))
            {
                ports.Add(port);
            }
        }

        return ports.Count == count ? [.. ports] : throw new InvalidOperationException("No free loopback ports for the cluster.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>The core suite on a three-master Redis Cluster: every script's keys share one hash slot.</summary>
public sealed class ClusterRedisTests(RedisClusterFixture cluster) : RedisContractTests, IClassFixture<RedisClusterFixture>
{
    protected override string Endpoint => cluster.Endpoint;
}

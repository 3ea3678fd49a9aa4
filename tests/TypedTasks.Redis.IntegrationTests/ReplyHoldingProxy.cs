using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>
/// A TCP proxy in front of a redis-server that can hold back what the server sends on every
/// connection but the subscribers' (a connection that sent SUBSCRIBE): a command already sent
/// runs on the server, and its answer reaches the client only once released, while messages
/// published meanwhile reach it at once. It makes a reply and a message cross in a known order.
/// </summary>
internal sealed class ReplyHoldingProxy : IAsyncDisposable
{
    private static readonly byte[] Subscribe = Encoding.ASCII.GetBytes("SUBSCRIBE");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _accepting;
    private TaskCompletionSource _open = Open();

    private ReplyHoldingProxy(int serverPort)
    {
        _serverPort = serverPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's endpoint, for a client to connect to in place of the server's.</summary>
    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Starts a proxy to the redis-server on loopback port <paramref name="serverPort"/>.</summary>
    public static ReplyHoldingProxy Start(int serverPort) => new(serverPort);

    /// <summary>From now on the server's answers on the connections that are not subscribers wait.</summary>
    public void Hold() => Volatile.Write(ref _open, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>What was held back goes on, and nothing more is.</summary>
    public void Release() => Volatile.Read(ref _open).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            // Whether the client subscribed on this connection: its messages are never held.
            var connection = new StrongBox<bool>();
            _ = PumpAsync(client.GetStream(), server.GetStream(), connection, toClient: false);
            _ = PumpAsync(server.GetStream(), client.GetStream(), connection, toClient: true);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, StrongBox<bool> subscriber, bool toClient)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (!toClient && buffer.AsSpan(0, read).IndexOf(Subscribe) >= 0)
                {
                    Volatile.Write(ref subscriber.Value, true);
                }

                if (toClient && !Volatile.Read(ref subscriber.Value))
                {
                    await Volatile.Read(ref _open).Task.WaitAsync(_stop.Token);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.IO.IOException or ObjectDisposedException or SocketException)
        {
            // The proxy stops, or a side closed.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}

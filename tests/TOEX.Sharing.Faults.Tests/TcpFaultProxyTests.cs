using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>The fault proxy itself, against an echo server on loopback: it forwards, resets, delays and black-holes.</summary>
public sealed class TcpFaultProxyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task It_forwards_both_ways_and_counts_the_bytes()
    {
        await using var echo = EchoServer.Start();
        await using var proxy = TcpFaultProxy.Start("127.0.0.1", echo.Port);
        using var client = await ConnectAsync(proxy);

        Assert.Equal("hello through the proxy", await RoundTripAsync(client, "hello through the proxy"));
        Assert.Equal("and again", await RoundTripAsync(client, "and again"));

        Assert.Equal(1, proxy.Accepted);
        // Counted once the send completes, which may be after the echo came back.
        await Eventually.UntilAsync(() => Task.FromResult(proxy.BytesUpstream == 32 && proxy.BytesDownstream == 32), Timeout, () => proxy.Summary);
        Assert.Equal(32, echo.Received);
        Assert.Equal(0, proxy.BytesDropped);
    }

    [Fact]
    public async Task A_reset_is_seen_by_the_client_and_the_target_as_a_reset()
    {
        await using var echo = EchoServer.Start();
        await using var proxy = TcpFaultProxy.Start("127.0.0.1", echo.Port);
        using var client = await ConnectAsync(proxy);
        Assert.Equal("before", await RoundTripAsync(client, "before"));

        Assert.Equal(1, proxy.ResetAll());

        var error = await Assert.ThrowsAsync<SocketException>(async () => await client.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(Timeout));
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        await Eventually.UntilAsync(() => Task.FromResult(echo.Resets == 1), Timeout, () => $"the echo server saw {echo.Resets} resets");
        await Eventually.UntilAsync(() => Task.FromResult(proxy.Open == 0), Timeout, () => proxy.Summary);
        Assert.Equal(1, proxy.Resets);

        // New connections are forwarded as before.
        using var again = await ConnectAsync(proxy);
        Assert.Equal("after", await RoundTripAsync(again, "after"));
    }

    [Fact]
    public async Task Latency_is_added_to_each_direction()
    {
        await using var echo = EchoServer.Start();
        await using var proxy = TcpFaultProxy.Start("127.0.0.1", echo.Port);
        using var client = await ConnectAsync(proxy);
        proxy.UpstreamLatency = TimeSpan.FromMilliseconds(300);
        proxy.DownstreamLatency = TimeSpan.FromMilliseconds(200);

        var clock = Stopwatch.StartNew();
        Assert.Equal("slow", await RoundTripAsync(client, "slow"));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(500), $"a round trip took {clock.Elapsed.TotalMilliseconds:0} ms, not at least 500 ms");

        proxy.SetLatency(TimeSpan.Zero);
        Assert.Equal("fast again", await RoundTripAsync(client, "fast again"));
    }

    [Fact]
    public async Task A_black_hole_forwards_nothing_accepts_connections_and_ends()
    {
        await using var echo = EchoServer.Start();
        await using var proxy = TcpFaultProxy.Start("127.0.0.1", echo.Port);
        using var caught = await ConnectAsync(proxy);
        using var idle = await ConnectAsync(proxy);
        Assert.Equal("before", await RoundTripAsync(caught, "before"));
        Assert.Equal("idle before", await RoundTripAsync(idle, "idle before"));
        var received = echo.Received;

        proxy.StartBlackHole();
        await caught.SendAsync(Encoding.UTF8.GetBytes("into the hole"), SocketFlags.None);
        // A new connection is accepted, not refused, and reaches nothing.
        using var during = await ConnectAsync(proxy);
        await during.SendAsync(Encoding.UTF8.GetBytes("also lost"), SocketFlags.None);
        await Eventually.UntilAsync(() => Task.FromResult(proxy.BytesDropped == 22), Timeout, () => proxy.Summary);
        Assert.Equal(received, echo.Received);
        Assert.Equal(2, echo.Connections);
        Assert.Equal(0, caught.Available);

        proxy.EndBlackHole();
        // New connections and the one that sent nothing in the hole are forwarded again.
        using var after = await ConnectAsync(proxy);
        Assert.Equal("after", await RoundTripAsync(after, "after"));
        Assert.Equal("idle after", await RoundTripAsync(idle, "idle after"));
        // The flows that lost bytes stay silent: what they send is dropped, the target sees nothing of it.
        await caught.SendAsync(Encoding.UTF8.GetBytes("still lost"), SocketFlags.None);
        await Eventually.UntilAsync(() => Task.FromResult(proxy.BytesDropped == 32), Timeout, () => proxy.Summary);
        Assert.Equal(received + "after".Length + "idle after".Length, echo.Received);
        Assert.Equal(2, proxy.DeadFlows);

        // Once the client closes a lost flow, the target's side is reset.
        caught.Close();
        await Eventually.UntilAsync(() => Task.FromResult(echo.Resets == 1), Timeout, () => $"the echo server saw {echo.Resets} resets; {proxy.Summary}");
    }

    [Fact]
    public async Task Disposing_closes_every_connection()
    {
        await using var echo = EchoServer.Start();
        var proxy = TcpFaultProxy.Start("127.0.0.1", echo.Port);
        using var client = await ConnectAsync(proxy);
        Assert.Equal("open", await RoundTripAsync(client, "open"));
        proxy.StartBlackHole();
        using var silent = await ConnectAsync(proxy);

        await proxy.DisposeAsync();

        Assert.Equal(0, proxy.Open);
        await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var refused = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await refused.ConnectAsync(IPAddress.Loopback, proxy.Port);
        });
    }

    private static async Task<Socket> ConnectAsync(TcpFaultProxy proxy)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, proxy.Port);
        return socket;
    }

    private static async Task<string> RoundTripAsync(Socket socket, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await socket.SendAsync(bytes, SocketFlags.None);
        var buffer = new byte[bytes.Length];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Timeout);
            Assert.True(n > 0, $"the connection closed after {read} of {buffer.Length} bytes");
            read += n;
        }
        return Encoding.UTF8.GetString(buffer);
    }

    /// <summary>Echoes every byte back; counts connections, bytes and the connections that ended with a reset.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stopping = new();
        private readonly ConcurrentBag<Task> _tasks = [];
        private readonly ConcurrentBag<Socket> _sockets = [];
        private long _received;
        private int _connections;
        private int _resets;
        private Task _accepting = Task.CompletedTask;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public long Received => Interlocked.Read(ref _received);

        public int Connections => Volatile.Read(ref _connections);

        public int Resets => Volatile.Read(ref _resets);

        public static EchoServer Start()
        {
            var server = new EchoServer();
            server._listener.Start();
            server._accepting = server.AcceptAsync();
            return server;
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stopping.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                Interlocked.Increment(ref _connections);
                _sockets.Add(socket);
                _tasks.Add(EchoAsync(socket));
            }
        }

        private async Task EchoAsync(Socket socket)
        {
            var buffer = new byte[4096];
            try
            {
                int read;
                while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token)) > 0)
                {
                    Interlocked.Add(ref _received, read);
                    await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                Interlocked.Increment(ref _resets);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync();
            _listener.Stop();
            await _accepting;
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
            await Task.WhenAll(_tasks);
            _listener.Dispose();
            _stopping.Dispose();
        }
    }
}

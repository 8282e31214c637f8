using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace TOEX.Sharing.Testing;

/// <summary>
/// A TCP proxy for network faults (no network tool is obtainable on the test machines): it listens on one loopback
/// port and forwards each connection to a target, and a test switches faults on and off while it runs.
/// <list type="bullet">
/// <item><see cref="ResetAll"/>: every open connection closed with a reset (RST) on both sides.</item>
/// <item><see cref="UpstreamLatency"/> / <see cref="DownstreamLatency"/>: each chunk held that long before it is forwarded
/// (client to target / target to client); chunks keep their order and the throughput is not limited.</item>
/// <item><see cref="StartBlackHole"/> / <see cref="EndBlackHole"/>: nothing is forwarded and what arrives is dropped, while
/// every connection stays open and new ones are accepted (never connected to the target), so clients see a silent
/// peer, not a refusal. A TCP stream cannot go on with a gap, so a connection that lost bytes in the hole stays silent
/// after it (as a flow whose state a firewall or NAT lost): only its ends' own timeouts or heartbeats can tell it is
/// dead, and when one end closes it the other is reset. Connections that sent nothing during the hole carry on, and
/// new ones reach the target again.</item>
/// </list>
/// Counts connections and bytes. Disposing closes every socket and awaits every task it started.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private const int ChunkSize = 16 * 1024;

    private readonly TcpListener _listener;
    private readonly DnsEndPoint _target;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Connection, Task> _connections = new();
    private readonly Task _accepting;
    private long _upstreamLatencyTicks;
    private long _downstreamLatencyTicks;
    private volatile bool _blackHole;
    private long _accepted;
    private long _resets;
    private long _deadFlows;
    private readonly Counter _bytesUpstream = new();
    private readonly Counter _bytesDownstream = new();
    private long _bytesDropped;
    private long _blackHoles;

    private TcpFaultProxy(string targetHost, int targetPort, TimeProvider time)
    {
        _target = new DnsEndPoint(targetHost, targetPort);
        _time = time;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>Starts a proxy on a free loopback port forwarding to <paramref name="targetHost"/>:<paramref name="targetPort"/>.</summary>
    public static TcpFaultProxy Start(string targetHost, int targetPort, TimeProvider? time = null) =>
        new(targetHost, targetPort, time ?? TimeProvider.System);

    /// <summary>A proxy for <paramref name="target"/>'s host and port; <see cref="Redirect"/> gives the same URL through it.</summary>
    public static TcpFaultProxy Start(Uri target, TimeProvider? time = null) => Start(target.Host, target.Port, time);

    /// <summary>The loopback port the proxy listens on.</summary>
    public int Port { get; }

    /// <summary><paramref name="url"/> with its host and port replaced by the proxy's.</summary>
    public Uri Redirect(Uri url) => new UriBuilder(url) { Host = "127.0.0.1", Port = Port }.Uri;

    /// <summary>How long each chunk from the client waits before it is forwarded to the target.</summary>
    public TimeSpan UpstreamLatency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _upstreamLatencyTicks));
        set => Interlocked.Exchange(ref _upstreamLatencyTicks, value.Ticks);
    }

    /// <summary>How long each chunk from the target waits before it is forwarded to the client.</summary>
    public TimeSpan DownstreamLatency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _downstreamLatencyTicks));
        set => Interlocked.Exchange(ref _downstreamLatencyTicks, value.Ticks);
    }

    /// <summary>Sets the latency of both directions (<see cref="TimeSpan.Zero"/>: none).</summary>
    public void SetLatency(TimeSpan latency) => (UpstreamLatency, DownstreamLatency) = (latency, latency);

    public bool IsBlackHole => _blackHole;

    /// <summary>Connections accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Connections open now.</summary>
    public int Open => _connections.Count;

    /// <summary>Connections closed with a reset by <see cref="ResetAll"/>.</summary>
    public long Resets => Interlocked.Read(ref _resets);

    /// <summary>Connections that lost bytes in a black hole (silent from then on).</summary>
    public long DeadFlows => Interlocked.Read(ref _deadFlows);

    /// <summary>Bytes forwarded from clients to the target.</summary>
    public long BytesUpstream => _bytesUpstream.Value;

    /// <summary>Bytes forwarded from the target to clients.</summary>
    public long BytesDownstream => _bytesDownstream.Value;

    /// <summary>Bytes dropped in black holes (and on dead flows after them).</summary>
    public long BytesDropped => Interlocked.Read(ref _bytesDropped);

    public string Summary => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Accepted} connections ({Open} open), {Resets} reset, {Interlocked.Read(ref _blackHoles)} black holes with {DeadFlows} flows lost in them, "
        + $"{BytesUpstream} bytes up, {BytesDownstream} down, {BytesDropped} dropped");

    /// <summary>Closes every open connection with a reset on both sides; returns how many.</summary>
    public int ResetAll()
    {
        var reset = 0;
        foreach (var connection in _connections.Keys)
        {
            if (connection.Abort())
            {
                reset++;
            }
        }
        Interlocked.Add(ref _resets, reset);
        return reset;
    }

    /// <summary>From now on nothing is forwarded, and what arrives is dropped (see the class).</summary>
    public void StartBlackHole()
    {
        _blackHole = true;
        Interlocked.Increment(ref _blackHoles);
    }

    /// <summary>New connections, and those that lost nothing, are forwarded again.</summary>
    public void EndBlackHole() => _blackHole = false;

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            client.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            var connection = new Connection(this, client);
            // Registered before it runs, so that it is never removed before it was added.
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[connection] = start.Task.ContinueWith(_ => connection.RunAsync(), TaskScheduler.Default).Unwrap();
            start.SetResult();
        }
    }

    private void Forget(Connection connection) => _connections.TryRemove(connection, out _);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }
        await Task.WhenAll(_connections.Values);
        _listener.Dispose();
        _stopping.Dispose();
    }

    /// <summary>One client's connection and, unless it was accepted in a black hole, its connection to the target.</summary>
    private sealed class Connection(TcpFaultProxy proxy, Socket client)
    {
        private readonly CancellationTokenSource _aborted = CancellationTokenSource.CreateLinkedTokenSource(proxy._stopping.Token);
        private readonly Lock _gate = new();
        private Socket? _upstream;
        private int _dead;
        private bool _closed;

        private bool Dead => Volatile.Read(ref _dead) == 1;

        public async Task RunAsync()
        {
            try
            {
                if (proxy._blackHole)
                {
                    // Its connection attempt went into the hole: it never reaches the target.
                    MarkDead();
                    await DrainAsync(client, _aborted.Token);
                    return;
                }
                var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                lock (_gate)
                {
                    _upstream = upstream;
                }
                try
                {
                    await upstream.ConnectAsync(proxy._target, _aborted.Token);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The target refuses or is gone: so is this connection.
                    Abort();
                    return;
                }
                await Task.WhenAll(
                    PumpAsync(client, upstream, () => proxy.UpstreamLatency, proxy._bytesUpstream),
                    PumpAsync(upstream, client, () => proxy.DownstreamLatency, proxy._bytesDownstream));
            }
            finally
            {
                Close();
                proxy.Forget(this);
            }
        }

        /// <summary>One direction: a reader stamping each chunk with when it is due, a writer forwarding it then.</summary>
        private Task PumpAsync(Socket from, Socket to, Func<TimeSpan> latency, Counter forwarded)
        {
            var chunks = Channel.CreateBounded<(byte[] Data, int Length, long Due)>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
            return Task.WhenAll(ReadAsync(from, chunks.Writer, latency), WriteAsync(to, chunks.Reader, forwarded));
        }

        /// <summary>Reads chunks from one side, stamped with when they are due; at its end (or error), ends the other side.</summary>
        private async Task ReadAsync(Socket from, ChannelWriter<(byte[] Data, int Length, long Due)> chunks, Func<TimeSpan> latency)
        {
            var token = _aborted.Token;
            var ended = false;
            try
            {
                while (true)
                {
                    var buffer = new byte[ChunkSize];
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None, token);
                    if (read == 0)
                    {
                        ended = true;
                        break;
                    }
                    if (proxy._blackHole || Dead)
                    {
                        Drop(read);
                        continue;
                    }
                    var due = proxy._time.GetTimestamp() + (long)(latency().TotalSeconds * proxy._time.TimestampFrequency);
                    await chunks.WriteAsync((buffer, read, due), token);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or ChannelClosedException)
            {
                // Reset, aborted or disposed: the other side is reset too.
            }
            if (!ended || Dead)
            {
                // A reset, or the end of a flow that lost bytes: the other side learns nothing more than a reset. Reset before
                // the writer is told the stream ended: told first, it could end the other side cleanly (a FIN) before the reset.
                Abort();
            }
            chunks.TryComplete();
        }

        private async Task WriteAsync(Socket to, ChannelReader<(byte[] Data, int Length, long Due)> chunks, Counter forwarded)
        {
            var token = _aborted.Token;
            try
            {
                await foreach (var (data, length, due) in chunks.ReadAllAsync(token))
                {
                    // Until it is due by the high-resolution clock: a timer may fire up to a millisecond early by it (seen: a
                    // 500 ms round trip measured at 499.6 ms).
                    for (var wait = proxy._time.GetElapsedTime(proxy._time.GetTimestamp(), due); wait > TimeSpan.Zero;
                         wait = proxy._time.GetElapsedTime(proxy._time.GetTimestamp(), due))
                    {
                        await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, proxy._time, token);
                    }
                    if (proxy._blackHole || Dead)
                    {
                        Drop(length);
                        continue;
                    }
                    var sent = 0;
                    while (sent < length)
                    {
                        sent += await to.SendAsync(data.AsMemory(sent, length - sent), SocketFlags.None, token);
                    }
                    forwarded.Add(length);
                }
                // The side it reads from ended cleanly: so does this one.
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                Abort();
            }
        }

        /// <summary>Reads and drops everything one side sends, until it closes or the connection is aborted.</summary>
        private async Task DrainAsync(Socket from, CancellationToken token)
        {
            var buffer = new byte[ChunkSize];
            try
            {
                int read;
                while ((read = await from.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
                {
                    Drop(read);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Gone.
            }
        }

        private void Drop(int bytes)
        {
            Interlocked.Add(ref proxy._bytesDropped, bytes);
            MarkDead();
        }

        private void MarkDead()
        {
            if (Interlocked.Exchange(ref _dead, 1) == 0)
            {
                Interlocked.Increment(ref proxy._deadFlows);
            }
        }

        /// <summary>Closes both sides with a reset (linger 0); false if it was already closed.</summary>
        public bool Abort()
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }
                _closed = true;
                foreach (var socket in new[] { client, _upstream })
                {
                    if (socket is null)
                    {
                        continue;
                    }
                    try
                    {
                        socket.LingerState = new LingerOption(true, 0);
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        // Already gone.
                    }
                    socket.Dispose();
                }
                _aborted.Cancel();
                return true;
            }
        }

        /// <summary>Closes both sides (a clean end, or after a reset), once both directions are done.</summary>
        private void Close()
        {
            lock (_gate)
            {
                if (!_closed)
                {
                    _closed = true;
                    client.Dispose();
                    _upstream?.Dispose();
                    _aborted.Cancel();
                }
                _aborted.Dispose();
            }
        }
    }

    /// <summary>A byte count shared by the connections' pumps.</summary>
    private sealed class Counter
    {
        private long _value;

        public long Value => Interlocked.Read(ref _value);

        public void Add(long value) => Interlocked.Add(ref _value, value);
    }
}

using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// Sockets to the broker that are dropped once the broker has sent nothing on them for <see cref="RabbitMqOptions.Heartbeat"/>:
/// RabbitMQ sends a heartbeat frame every half heartbeat when it has nothing else to send, so that silence is two
/// heartbeats missed, which is when RabbitMQ itself takes a peer for dead. Before the broker's first bytes (it answers
/// the protocol header at once) the bound is the shorter <see cref="RabbitMqOptions.ProbeTimeout"/>, so that an opening
/// made into the silence is given up within seconds of a heal. Every connection a service opens to the broker
/// (MassTransit's, the readiness probe's, the dead-letter watcher's) uses them, because RabbitMQ.Client 7 alone does not
/// end two kinds of silent connection (a black-holed network, a firewall or NAT that lost the flow):
/// <list type="bullet">
/// <item>one opened into the silence: its handshake waits for <c>connection.start</c> with no timeout of its own (its
/// heartbeat starts only after the handshake, and MassTransit passes no cancellation), so MassTransit's connection never
/// completed, nor failed, and the gateway refused every submission for good after a 30 s black hole;</item>
/// <item>one whose flow was lost: RabbitMQ.Client notices only after three to four heartbeats.</item>
/// </list>
/// Dropping the socket fails the connection's read loop at once, so the client closes the connection (or fails its
/// opening), and MassTransit and the monitors open a new one.
/// </summary>
public static partial class SilentBrokerGuard
{
    /// <summary>A socket factory for <see cref="ConnectionFactory.SocketFactory"/>.</summary>
    public static Func<System.Net.Sockets.AddressFamily, ITcpClient> SocketFactory(RabbitMqOptions options, TimeProvider time, ILogger logger) =>
        SocketFactory(options.ProbeTimeout, options.Heartbeat, time, logger);

    /// <summary>A socket factory dropping a socket after <paramref name="opening"/> without the broker's first bytes, or <paramref name="silence"/> without more.</summary>
    public static Func<System.Net.Sockets.AddressFamily, ITcpClient> SocketFactory(TimeSpan opening, TimeSpan silence, TimeProvider time, ILogger logger) =>
        family => new GuardedTcpClient(new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }, opening, silence, time, logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message broker sent nothing for {Seconds} s on the connection from local port {LocalPort} ({Phase}); the connection is dropped and opened again")]
    private static partial void LogDropped(ILogger logger, double seconds, int localPort, string phase);

    /// <summary>A <see cref="TcpClientAdapter"/> whose stream notes when the broker was last heard, and whose watchdog drops the socket after the silence.</summary>
    private sealed class GuardedTcpClient : TcpClientAdapter
    {
        private readonly Socket _socket;
        private readonly TimeSpan _opening;
        private readonly TimeSpan _silence;
        private readonly TimeProvider _time;
        private readonly ILogger _logger;
        private readonly ITimer _watchdog;
        private long _lastHeard;
        private bool _heard;
        private int _dropped;

        public GuardedTcpClient(Socket socket, TimeSpan opening, TimeSpan silence, TimeProvider time, ILogger logger) : base(socket)
        {
            _socket = socket;
            _opening = opening;
            _silence = silence;
            _time = time;
            _logger = logger;
            _lastHeard = time.GetTimestamp();
            var shortest = opening < silence ? opening : silence;
            var period = shortest / 4 > TimeSpan.FromMilliseconds(250) ? shortest / 4 : TimeSpan.FromMilliseconds(250);
            _watchdog = time.CreateTimer(_ => Watch(), null, period, period);
        }

        public override NetworkStream GetStream() => new HeardStream(_socket, this);

        public override void Close()
        {
            _watchdog.Dispose();
            base.Close();
        }

        private void Heard()
        {
            Interlocked.Exchange(ref _lastHeard, _time.GetTimestamp());
            Volatile.Write(ref _heard, true);
        }

        private void Watch()
        {
            var heard = Volatile.Read(ref _heard);
            var limit = heard ? _silence : _opening;
            if (_time.GetElapsedTime(Interlocked.Read(ref _lastHeard)) < limit || Interlocked.Exchange(ref _dropped, 1) == 1)
            {
                return;
            }
            _watchdog.Dispose();
            var port = _socket.LocalEndPoint is System.Net.IPEndPoint local ? local.Port : 0;
            LogDropped(_logger, limit.TotalSeconds, port, heard ? "two heartbeats missed" : "no answer to the opening");
            try
            {
                // A reset, not a close: nothing is owed to a peer that says nothing.
                _socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
            _socket.Dispose();
        }

        /// <summary>The connection's stream: each read that brings bytes notes that the broker was heard.</summary>
        private sealed class HeardStream(Socket socket, GuardedTcpClient client) : NetworkStream(socket, ownsSocket: false)
        {
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var read = await base.ReadAsync(buffer, cancellationToken);
                if (read > 0)
                {
                    client.Heard();
                }
                return read;
            }

            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                await ReadAsync(buffer.AsMemory(offset, count), cancellationToken);

            public override int Read(Span<byte> buffer)
            {
                var read = base.Read(buffer);
                if (read > 0)
                {
                    client.Heard();
                }
                return read;
            }

            public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// <see cref="SilentBrokerGuard"/> against the proxy's black hole: a connection opened into the silence fails once the
/// peer has said nothing for the guard's opening bound, as MassTransit opens it (no cancellation), while RabbitMQ.Client's own
/// socket waits for <c>connection.start</c> for good (the gateway refused every submission after a 30 s black hole).
/// </summary>
public sealed class SilentBrokerGuardTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_opening_into_a_black_hole_fails_after_the_silence_while_the_unguarded_one_still_waits()
    {
        // Nothing listens behind it: in the hole a connection is accepted and never reaches the target.
        await using var proxy = TcpFaultProxy.Start("127.0.0.1", 9);
        proxy.StartBlackHole();
        var silence = TimeSpan.FromSeconds(1);

        var unguarded = Factory(proxy, ConnectionFactory.DefaultSocketFactory).CreateConnectionAsync();
        var clock = Stopwatch.StartNew();
        var guarded = Factory(proxy, SilentBrokerGuard.SocketFactory(silence, TimeSpan.FromMinutes(1), TimeProvider.System, NullLogger.Instance)).CreateConnectionAsync();

        var error = await Assert.ThrowsAsync<BrokerUnreachableException>(() => guarded.WaitAsync(Timeout));
        Assert.True(clock.Elapsed >= silence, $"the guarded opening failed after {clock.Elapsed.TotalMilliseconds:0} ms, before {silence.TotalMilliseconds:0} ms of silence");
        Assert.Contains("connection.start was never received", error.InnerException?.Message ?? "", StringComparison.Ordinal);
        Assert.False(unguarded.IsCompleted, "without the guard the opening should still be waiting for connection.start");

        // Ended by the proxy's reset (the only thing that ends it).
        Assert.True(proxy.ResetAll() >= 1, proxy.Summary);
        await Assert.ThrowsAsync<BrokerUnreachableException>(() => unguarded.WaitAsync(Timeout));
    }

    private static ConnectionFactory Factory(TcpFaultProxy proxy, Func<System.Net.Sockets.AddressFamily, ITcpClient> sockets) => new()
    {
        Uri = new Uri($"amqp://127.0.0.1:{proxy.Port}/"),
        AutomaticRecoveryEnabled = false,
        RequestedHeartbeat = TimeSpan.FromSeconds(1),
        SocketFactory = sockets,
    };
}

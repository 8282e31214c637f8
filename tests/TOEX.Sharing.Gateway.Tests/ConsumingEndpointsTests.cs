using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// Readiness counts an endpoint as consuming from its latest ready until it faults or stops. The order below is the one
/// MassTransit produces when a broker returns while the old connection's consumer is still finishing its messages: the
/// old consumer's completion arrives after the new connection is ready, and must not mark the endpoint stopped for good.
/// </summary>
public sealed class ConsumingEndpointsTests
{
    private static readonly Uri Queue = new("rabbitmq://127.0.0.1/vhost/gateway-audit-recorded");

    [Fact]
    public async Task A_late_completion_of_the_old_connection_leaves_the_endpoint_consuming()
    {
        var endpoints = new ConsumingEndpoints(NullLogger<ConsumingEndpoints>.Instance);
        Assert.False(endpoints.IsConsuming(Queue));

        await endpoints.Ready(new Event(Queue));
        Assert.True(endpoints.IsConsuming(Queue));
        await endpoints.Faulted(new Event(Queue));
        Assert.False(endpoints.IsConsuming(Queue));
        await endpoints.Ready(new Event(Queue));
        await endpoints.Completed(new Event(Queue));

        Assert.True(endpoints.IsConsuming(Queue));
    }

    [Fact]
    public async Task A_stopping_endpoint_is_not_consuming_and_another_endpoint_is_its_own()
    {
        var endpoints = new ConsumingEndpoints(NullLogger<ConsumingEndpoints>.Instance);
        var other = new Uri("rabbitmq://127.0.0.1/vhost/gateway-sharing-decided");
        await endpoints.Ready(new Event(Queue));
        await endpoints.Ready(new Event(other));

        await endpoints.Stopping(new Event(Queue));

        Assert.False(endpoints.IsConsuming(Queue));
        Assert.True(endpoints.IsConsuming(other));
    }

    private sealed record Event(Uri InputAddress)
        : ReceiveEndpointReady, ReceiveEndpointFaulted, ReceiveEndpointCompleted, ReceiveEndpointStopping
    {
        public IReceiveEndpoint ReceiveEndpoint => null!;
        public bool IsStarted => true;
        public Exception? Exception { get; } = new InvalidOperationException("connection refused");
        public long DeliveryCount => 0;
        public long ConcurrentDeliveryCount => 0;
        public bool Removed => false;
    }
}

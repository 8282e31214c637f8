using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// The services' broker users (deploy/rabbitmq/definitions.json) on a real node: each may publish only the
/// events it owns and read only its own queues, and <c>guest</c> does not exist. The end-to-end stack runs
/// every service as its own user, which proves the permissions are enough; these prove they are no more.
/// </summary>
public sealed class BrokerPermissionsTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private const string Contracts = "TOEX.Sharing.Contracts:";

    [Theory]
    [InlineData("gateway", "PackageSubmitted")]
    [InlineData("gateway", "PackageReleased")]
    [InlineData("gateway", "ConsultationRecorded")]
    [InlineData("policy-decision", "SharingDecided")]
    [InlineData("audit", "ReferralDecided")]
    [InlineData("audit", "AuditRecorded")]
    public async Task A_service_publishes_the_events_it_owns(string service, string message)
    {
        await DeclareAsAdminAsync(Contracts + message);
        await using var connection = await ConnectAsync(service);
        await PublishAsync(connection, Contracts + message);
    }

    [Theory]
    [InlineData("gateway", "SharingDecided")]       // a forged decision
    [InlineData("gateway", "ReferralDecided")]      // a forged IG approval
    [InlineData("gateway", "AuditRecorded")]        // a forged ledger confirmation
    [InlineData("audit", "PackageReleased")]
    [InlineData("audit", "SharingDecided")]
    [InlineData("audit", "ConsultationRecorded")]       // a forged consultation
    [InlineData("policy-decision", "PackageReleased")]
    [InlineData("policy-decision", "ReferralDecided")]
    [InlineData("policy-decision", "PackageSubmitted")]
    public async Task A_service_cannot_publish_another_services_events(string service, string message)
    {
        await DeclareAsAdminAsync(Contracts + message);
        await using var connection = await ConnectAsync(service);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => PublishAsync(connection, Contracts + message));
        Assert.Contains("ACCESS_REFUSED", Describe(refused), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gateway", "audit-package-released-audit")]
    [InlineData("audit", "gateway-sharing-decided")]
    [InlineData("policy-decision", "gateway-referral-decided")]
    [InlineData("gateway", "policy-decision-package-submitted")]
    public async Task A_service_cannot_read_another_services_queue(string service, string queue)
    {
        await using (var admin = await ConnectAsync(null))
        await using (var channel = await admin.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        }
        await using var connection = await ConnectAsync(service);
        await using var other = await connection.CreateChannelAsync();
        var refused = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => other.BasicGetAsync(queue, autoAck: true));
        Assert.Contains("ACCESS_REFUSED", Describe(refused), StringComparison.Ordinal);
    }

    /// <summary>
    /// The gateway asks PolicyDecision for a lost decision again by sending to its endpoint's exchange (not by publishing,
    /// which the audit worker would receive too): that one exchange of PolicyDecision's, and no other of its names.
    /// </summary>
    [Theory]
    [InlineData("policy-decision-package-submitted", true)]
    [InlineData("policy-decision-package-submitted_error", false)]
    [InlineData("policy-decision-dead-letter", false)]
    public async Task The_gateway_writes_policy_decisions_endpoint_exchange_and_no_other(string exchange, bool allowed)
    {
        await DeclareAsAdminAsync(exchange);
        await using var connection = await ConnectAsync("gateway");
        if (allowed)
        {
            await PublishAsync(connection, exchange);
            return;
        }
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => PublishAsync(connection, exchange));
        Assert.Contains("ACCESS_REFUSED", Describe(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_declares_and_reads_its_own_queues()
    {
        await using var connection = await ConnectAsync("gateway");
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("gateway-permissions-probe", durable: true, exclusive: false, autoDelete: true);
        Assert.Null(await channel.BasicGetAsync("gateway-permissions-probe", autoAck: true));
    }

    [Fact]
    public async Task The_guest_user_does_not_exist()
    {
        var factory = new ConnectionFactory
        {
            HostName = broker.VirtualHost.Host,
            Port = broker.VirtualHost.Port,
            VirtualHost = broker.VirtualHost.Name,
            UserName = "guest",
            Password = "guest",
        };
        await Assert.ThrowsAsync<BrokerUnreachableException>(() => factory.CreateConnectionAsync());
    }

    private async Task<IConnection> ConnectAsync(string? service)
    {
        var uri = service is null ? broker.VirtualHost.AmqpUri : await broker.Broker.ServiceUriAsync(broker.VirtualHost, service);
        return await new ConnectionFactory { Uri = uri }.CreateConnectionAsync();
    }

    private async Task DeclareAsAdminAsync(string exchange)
    {
        await using var admin = await ConnectAsync(null);
        await using var channel = await admin.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
    }

    /// <summary>Publishes with a publisher confirm, so a refusal surfaces here rather than on a later call.</summary>
    private static async Task PublishAsync(IConnection connection, string exchange)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(exchange, "", mandatory: false, new BasicProperties(), Encoding.UTF8.GetBytes("{}"));
    }

    private static string Describe(Exception e) => e switch
    {
        OperationInterruptedException interrupted => $"{interrupted.ShutdownReason?.ReplyText} {interrupted.Message}",
        _ => e.Message + (e.InnerException is { } inner ? " " + Describe(inner) : ""),
    };
}

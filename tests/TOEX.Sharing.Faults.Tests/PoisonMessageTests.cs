using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RabbitMQ.Client;
using TOEX.Sharing.Testing;
using Xunit.Abstractions;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>
/// Item 2, poison messages, in the middle of a run of ordinary packages:
/// <list type="bullet">
/// <item>a malformed <c>SharingDecided</c> published on its real exchange: the gateway and the audit worker each move it
/// to their endpoint's error queue, and their <c>/health</c> names that queue and its count (Degraded, still 200);</item>
/// <item>a message whose consumer dies each time it is delivered (a connection that takes it and closes without
/// settling it, as a SIGKILLed process's does) on one of the audit worker's quorum queues: past the queue's delivery
/// limit the broker dead-letters it to <c>audit-dead-letter</c> instead of dropping it, and the audit worker's
/// <c>/health</c> names that queue.</item>
/// </list>
/// Every other package is decided, released and in the ledger: the balance holds.
/// </summary>
public sealed class PoisonMessageTests(ITestOutputHelper output)
{
    private const string SharingDecidedExchange = "TOEX.Sharing.Contracts:SharingDecided";

    /// <summary>An audit endpoint the workload never sends to (no partner key is revoked in these runs).</summary>
    private const string QuietAuditQueue = "audit-partner-key-revoked-audit";

    private const int AuditDeliveryLimit = 20;

    [Fact]
    public async Task Poison_messages_reach_the_error_and_dead_letter_queues_other_traffic_flows_and_health_names_them()
    {
        var packages = FaultRun.Size(100, 1000);
        var log = new RunLog(output.WriteLine);
        var (broker, vhost) = await FaultRun.PrivateBrokerAsync();
        await using var _ = broker;
        await using var stack = await FaultServices.StartAsync(new FaultStackOptions { BrokerUri = service => broker.ServiceUriAsync(vhost, service) });
        var workload = new Workload(stack, "P");
        var run = workload.RunAsync(0, packages, 4);
        await FaultRun.UntilAsync(stack, () => Task.FromResult(workload.Submitted >= packages / 4), TimeSpan.FromMinutes(5), "a quarter accepted");

        var factory = new ConnectionFactory { Uri = vhost.AmqpUri };
        await using var connection = await factory.CreateConnectionAsync();

        // 1. A malformed SharingDecided on the real exchange, as a compromised or broken publisher might send it.
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
        {
            await channel.BasicPublishAsync(SharingDecidedExchange, "", mandatory: true,
                new BasicProperties { ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString(), Persistent = true },
                "{\"messageId\": \"not a message\", \"message\": {\"packageId\": [1, 2"u8.ToArray());
        }
        log.Write($"malformed SharingDecided published after {workload.Submitted} packages accepted");
        foreach (var (service, queue) in new[] { (stack.Gateway, "gateway-sharing-decided_error"), (stack.Audit, "audit-sharing-decided-audit_error") })
        {
            Health? health = null;
            await FaultRun.UntilAsync(stack, async () => (health = await Health.ReadAsync(service)).Reason(DeadLettersCheck)?.Contains($"{queue} 1", StringComparison.Ordinal) == true,
                TimeSpan.FromSeconds(60), () => $"{service} /health to name {queue} (last: {health})");
            log.Write($"{service} /health: {health}");
            Assert.Equal(HttpStatusCode.OK, health!.Status);
            Assert.Equal("Degraded", (string?)health.Body!["status"]);
        }

        // 2. A message whose consumer process dies each time it is delivered. The audit worker is killed, so the only
        // consumer is this test's, which takes the message and drops its connection without settling it, again and again.
        await stack.KillAsync(Service.Audit);
        log.Write($"audit worker SIGKILLed after {workload.Submitted} packages accepted; a poison message goes to {QuietAuditQueue}");
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
        {
            await channel.BasicPublishAsync("", QuietAuditQueue, mandatory: true,
                new BasicProperties { ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString(), Persistent = true },
                "{\"poison\": true}"u8.ToArray());
        }
        var deliveries = 0;
        object? lastCount = null;
        await FaultRun.UntilAsync(stack, async () =>
        {
            await using (var dying = await factory.CreateConnectionAsync())
            {
                await using var take = await dying.CreateChannelAsync();
                if (await take.BasicGetAsync(QuietAuditQueue, autoAck: false) is { } delivery)
                {
                    deliveries++;
                    lastCount = delivery.BasicProperties.Headers is { } headers && headers.TryGetValue("x-delivery-count", out var count) ? count : null;
                }
                await dying.AbortAsync();
            }
            await using var look = await connection.CreateChannelAsync();
            return (await look.QueueDeclarePassiveAsync("audit-dead-letter")).MessageCount == 1;
        }, TimeSpan.FromSeconds(120), () => $"the poison message to reach audit-dead-letter ({deliveries} deliveries so far)");
        await using (var look = await connection.CreateChannelAsync())
        {
            Assert.Equal(0u, (await look.QueueDeclarePassiveAsync(QuietAuditQueue)).MessageCount);
            var dead = await look.BasicGetAsync("audit-dead-letter", autoAck: false);
            Assert.NotNull(dead);
            var reason = Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-first-death-reason"]!);
            var from = Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-first-death-queue"]!);
            log.Write(string.Create(CultureInfo.InvariantCulture,
                $"dead-lettered after {deliveries} deliveries (last x-delivery-count {lastCount}): x-first-death-reason={reason}, x-first-death-queue={from}"));
            Assert.Equal("delivery_limit", reason);
            Assert.Equal(QuietAuditQueue, from);
            Assert.Equal(AuditDeliveryLimit + 1, deliveries);
            await look.BasicNackAsync(dead.DeliveryTag, multiple: false, requeue: true);
        }

        await stack.RestartAsync(Service.Audit);
        await FaultRun.UntilAsync(stack, async () => (await Health.ReadAsync(stack.Audit)).Reason(DeadLettersCheck)?.Contains("audit-dead-letter 1", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(60), "the audit worker's /health to name audit-dead-letter");
        var auditHealth = await Health.ReadAsync(stack.Audit);
        log.Write($"audit /health after its restart ({workload.Submitted} packages accepted): {auditHealth}");
        Assert.Equal(HttpStatusCode.OK, auditHealth.Status);
        Assert.Contains("audit-sharing-decided-audit_error 1", auditHealth.Reason(DeadLettersCheck), StringComparison.Ordinal);

        // Every durable queue of the services dead-letters to its own service's exchange, at least once.
        var queues = await QueuesAsync(broker, vhost);
        log.Write($"queues: {string.Join(", ", queues.Select(q => $"{q.Name} ({q.DeliveryLimit}, {q.DeadLetterExchange ?? "-"}, {q.Strategy ?? "-"})"))}");
        foreach (var queue in queues.Where(q => q.DeliveryLimit is not null))
        {
            // <service>-dead-letter for a queue <service>-…: within the service's own names on the broker.
            Assert.EndsWith("-dead-letter", queue.DeadLetterExchange, StringComparison.Ordinal);
            Assert.StartsWith(queue.DeadLetterExchange![..^"dead-letter".Length], queue.Name, StringComparison.Ordinal);
            Assert.Equal("at-least-once", queue.Strategy);
        }
        Assert.Contains(queues, q => q.Name == "audit-dead-letter");
        Assert.Contains(queues, q => q.Name == "gateway-dead-letter");
        Assert.Contains(queues, q => q.Name == "policy-decision-dead-letter");
        Assert.Contains(queues, q => q.Name == QuietAuditQueue && q.DeliveryLimit == AuditDeliveryLimit);

        await run;
        log.Write($"all submitted: {workload.Summary}");
        var balance = await stack.SettleAsync(workload.Accepted, TimeSpan.FromMinutes(FaultRun.Size(3, 15)));
        log.Write($"{balance.Line} | faults injected: 1 malformed SharingDecided (to 2 error queues), 1 message over its delivery limit "
            + "(to audit-dead-letter), 1 audit kill");
        Assert.Empty(workload.Errors);
        Assert.Equal(packages, balance.Accepted);
        Assert.True(balance.Holds, balance.Report());

        // The services count their error queues without ever asking for one that does not exist: the dead-letter monitors
        // declare them as MassTransit does (which then moved the malformed message into two of them). A passive declare of a
        // missing queue is an [error] in the broker's log; before, one per endpoint every 5 s.
        var notFound = BrokerLogLines(broker).Where(line => line.Contains("not_found", StringComparison.Ordinal)).ToList();
        log.Write($"broker log: {notFound.Count} not_found channel errors");
        Assert.Empty(notFound);
    }

    /// <summary>The private node's log lines (its node log, not the upgrade log).</summary>
    private static IEnumerable<string> BrokerLogLines(RabbitMqBroker broker) =>
        Directory.EnumerateFiles(Path.Combine(broker.NodeDirectory ?? throw new InvalidOperationException("A private node has a log."), "log"), "*.log")
            .Where(file => !file.EndsWith("_upgrade.log", StringComparison.Ordinal))
            .SelectMany(File.ReadLines);

    private const string DeadLettersCheck = "dead-letters";

    private sealed record QueueInfo(string Name, string? DeadLetterExchange, string? Strategy, long? DeliveryLimit);

    /// <summary>The virtual host's queues and their dead-letter arguments, as the broker reports them.</summary>
    private static async Task<List<QueueInfo>> QueuesAsync(RabbitMqBroker broker, BrokerVhost vhost)
    {
        var json = await broker.ControlAsync(default, "list_queues", "-p", vhost.Name, "name", "arguments", "--formatter", "json", "--silent");
        return [.. JsonNode.Parse(json)!.AsArray().Select(q =>
        {
            // An object of the arguments, or (rabbitmqctl 3.10) a list of [name, AMQP type, value].
            var arguments = q!["arguments"] as JsonObject
                ?? new JsonObject((q["arguments"] as JsonArray ?? []).Select(a => KeyValuePair.Create((string)a![0]!, a.AsArray()[^1]?.DeepClone())));
            return new QueueInfo((string)q["name"]!, (string?)arguments?["x-dead-letter-exchange"], (string?)arguments?["x-dead-letter-strategy"],
                arguments?["x-delivery-limit"] is { } limit
                    ? long.Parse(limit.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture) : null);
        }).OrderBy(q => q.Name, StringComparer.Ordinal)];
    }
}

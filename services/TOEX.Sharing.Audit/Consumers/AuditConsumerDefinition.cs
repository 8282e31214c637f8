using MassTransit;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.ServiceDefaults;
using Microsoft.Extensions.Logging;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>
/// Every audit consumer: retried, on a quorum queue with a delivery limit, then to its error queue; never dropped.
/// Each event it has recorded is confirmed to its publisher (<see cref="ConfirmRecordedFilter{T}"/>).
/// </summary>
public sealed class AuditConsumerDefinition<TConsumer> : DurableConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    public AuditConsumerDefinition()
    {
        // The ledger must not lose an event: retried longer than other consumers before the error queue.
        Retries = 10;
        FirstRetryDelay = TimeSpan.FromMilliseconds(100);
        MaxRetryDelay = TimeSpan.FromSeconds(30);
        DeliveryLimit = 20;
        // An event whose key is taken by other content clashes again on every try, and a batch's events the ledger refused
        // are refused again: to the error queue at once.
        NotRetried = [typeof(Ledger.LedgerConflictException), typeof(GatewayEventsRefusedException)];
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        base.ConfigureConsumer(endpointConfigurator, consumerConfigurator, context);
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit
            && context.GetRequiredService<IOptions<AuditOptions>>().Value.SingleActiveConsumer)
        {
            rabbit.SetQueueArgument("x-single-active-consumer", true);
        }
        endpointConfigurator.UseConsumeFilter(typeof(ConfirmRecordedFilter<>), context);
    }
}

/// <summary>
/// Tells the gateway (its fail-closed check of releases) that its event is in the ledger, for every event of the gateway's
/// outbox (<see cref="GatewayOutboxEvents"/>) an audit consumer handled without a fault, whatever its type: a consumer added
/// later cannot forget it. Published after the append committed and before the message is acknowledged, so a crash between
/// the two redelivers the event, which is then found in the ledger and confirmed again: every recorded event is confirmed
/// at least once. Events the gateway did not queue (a submission, a decision, an IG officer's referral decision) are never
/// confirmed.
/// </summary>
/// <remarks>
/// Each consumer publishes its own confirmation through its own context, never on behalf of others: a confirmation of a
/// whole group commit, published by one of the group (on the bus, or through one member's context), made every other
/// member's message wait for that publish; when the broker was killed mid-publish, those messages stayed in flight, the
/// client's shutdown of the old connection waited on them, and most of the worker's endpoints never consumed again
/// (fault suite, <c>BrokerCrashTests</c>: 0 consumers at the broker for 17 of 19 queues, 944 ledger entries missing).
/// </remarks>
public sealed class ConfirmRecordedFilter<T>(TimeProvider time, ILogger<ConfirmRecordedFilter<T>> logger)
    : IFilter<ConsumeContext<T>> where T : class
{
    private static readonly bool Confirmed = GatewayOutboxEvents.Contains(typeof(T));

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        try
        {
            await next.Send(context);
        }
        catch (Ledger.LedgerConflictException e)
        {
            AuditAlerts.Refused(logger, typeof(T).Name, e.EventKey);
            throw;
        }
        if (Confirmed && context.MessageId is { } messageId)
        {
            await context.Publish(new AuditRecorded { EventIds = [messageId], RecordedAt = time.GetUtcNow() }, context.CancellationToken);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("confirm-recorded");
}

/// <summary>The alerts of the audit consumers, one wording wherever the event came from.</summary>
public static class AuditAlerts
{
    /// <summary>An event refused by the ledger: never confirmed, so the publisher's fail-closed hold stands until someone looks.</summary>
    public static void Refused(ILogger logger, string messageType, string eventKey) =>
        logger.LogCritical("ALERT: a {MessageType} event was refused by the ledger: its key {EventKey} is recorded with other content "
            + "(a forged or replayed event). It is not confirmed and waits in the error queue.", messageType, eventKey);
}

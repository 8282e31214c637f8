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
        // An event whose key is taken by other content clashes again on every try: to the error queue at once.
        NotRetried = [typeof(Ledger.LedgerConflictException)];
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
/// later cannot forget it. The confirmation is owed to the group commit that records the event (<see cref="PendingConfirmation"/>):
/// one <see cref="AuditRecorded"/> names every such event of the group, published after the commit and before any of its
/// messages is acknowledged, so a crash between the two redelivers the event, which is then found in the ledger and
/// confirmed again: every recorded event is confirmed at least once. A consumer that recorded nothing confirms on its own.
/// Events the gateway did not queue (a submission, a decision, an IG officer's referral decision) are never confirmed.
/// </summary>
public sealed class ConfirmRecordedFilter<T>(Ledger.LedgerConfirmations confirmations, ILogger<ConfirmRecordedFilter<T>> logger)
    : IFilter<ConsumeContext<T>> where T : class
{
    private static readonly bool Confirmed = GatewayOutboxEvents.Contains(typeof(T));

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var owed = Confirmed && context.MessageId is { } messageId ? new Ledger.PendingConfirmation(messageId) : null;
        Ledger.PendingConfirmation.Current = owed;
        try
        {
            await next.Send(context);
        }
        catch (Ledger.LedgerConflictException e)
        {
            // Never confirmed: the publisher's fail-closed hold stands until someone looks.
            logger.LogCritical("ALERT: a {MessageType} event was refused by the ledger: its key {EventKey} is recorded with other content "
                + "(a forged or replayed event). It is not confirmed and waits in the error queue.", typeof(T).Name, e.EventKey);
            throw;
        }
        finally
        {
            Ledger.PendingConfirmation.Current = null;
        }
        if (owed is { Sent: false })
        {
            await confirmations.SendAsync([owed.MessageId]);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("confirm-recorded");
}

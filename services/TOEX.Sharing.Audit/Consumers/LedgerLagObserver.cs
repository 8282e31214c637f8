using MassTransit;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>
/// Ledger lag (<c>toex.ledger.lag</c>): from an event's publication to its entries committed, measured when the audit
/// worker's consumer has finished with it. Both ends are wall-clock instants of the machines (MassTransit stamps
/// <c>SentTime</c> with the sender's clock), so the system clock is read here, not the service's shifted one.
/// </summary>
public sealed class LedgerLagObserver : IConsumeObserver
{
    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (context.SentTime is { } sent)
        {
            var lag = Math.Max(0, (TimeProvider.System.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(sent, DateTimeKind.Utc)).TotalMilliseconds);
            // A batch of the gateway's events: each event's lag under its own type, as when it came alone.
            foreach (var type in context.Message is Contracts.GatewayEventBatch batch ? (batch.Events ?? []).Select(e => e?.Type ?? "unknown") : [typeof(T).Name])
            {
                ToexTelemetry.LedgerLag.Record(lag, new KeyValuePair<string, object?>("type", type));
            }
        }
        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}

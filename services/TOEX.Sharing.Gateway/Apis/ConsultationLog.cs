using System.Security.Claims;
using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Apis;

/// <summary>
/// Records each consultation of personal data at the gateway (DPA 2018 s62) for the audit ledger: a
/// <see cref="ConsultationRecorded"/> event written to the outbox before the data is answered, so it reaches the
/// audit worker even if the broker is down for a while (the outbox publishes it once the broker is back).
/// </summary>
public sealed class ConsultationLog(GatewayWriter writer, OutboxSignal outbox, TimeProvider time)
{
    public const string FeedRead = "feed-read";
    public const string PackageStatus = "package-status";

    public async Task RecordAsync(string kind, ClaimsPrincipal user, string justification, IReadOnlyList<ConsultedItem> items,
        IReadOnlyDictionary<string, string> request, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            // Nothing was shown: no personal data consulted.
            return;
        }
        var now = time.GetUtcNow();
        var recorded = OutboxMessages.For(new ConsultationRecorded
        {
            Kind = kind,
            At = now,
            Actor = user.Actor(),
            Organisation = user.Organisation(),
            Justification = justification,
            Items = items,
            Request = request,
        }, NewId.NextGuid(), now);
        // Through the gateway's writer: committed with whatever else it has (a fresh row each time the change is applied).
        await writer.WriteAsync((target, _) =>
        {
            target.Outbox.Add(new OutboxMessage
            {
                MessageId = recorded.MessageId,
                MessageType = recorded.MessageType,
                Body = recorded.Body,
                CreatedAt = recorded.CreatedAt,
                TraceParent = recorded.TraceParent,
            });
            return Task.CompletedTask;
        }, cancellationToken);
        outbox.Notify();
    }
}

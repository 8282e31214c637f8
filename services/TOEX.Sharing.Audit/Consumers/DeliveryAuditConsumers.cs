using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>A failed push attempt: which attempt, what the endpoint answered, when the next one is due.</summary>
public sealed class WebhookAttemptFailedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<WebhookAttemptFailed>
{
    public Task Consume(ConsumeContext<WebhookAttemptFailed> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(WebhookAttemptFailed m, Guid id) => new([DeliveryEntries.For(m, id, "webhook-attempt-failed", m.At, m.PackageId,
        m.Recipient, $"webhook {m.WebhookId} attempt {m.Attempt}: {m.Error}",
        new() { ["webhookId"] = m.WebhookId, ["kind"] = m.Kind, ["attempt"] = m.Attempt, ["statusCode"] = m.StatusCode, ["nextAttemptAt"] = m.NextAttemptAt })]);
}

/// <summary>A push its partner's endpoint accepted: the package or recall notice reached the recipient.</summary>
public sealed class WebhookDeliveredAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<WebhookDelivered>
{
    public Task Consume(ConsumeContext<WebhookDelivered> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(WebhookDelivered m, Guid id) => new([DeliveryEntries.For(m, id, "webhook-delivered", m.At, m.PackageId,
        m.Recipient, $"webhook {m.WebhookId} accepted with {m.StatusCode} on attempt {m.Attempt}",
        new() { ["webhookId"] = m.WebhookId, ["kind"] = m.Kind, ["attempt"] = m.Attempt, ["statusCode"] = m.StatusCode })],
        m.Kind == "package" ? (store, ct) => DeliveredCopy.RecordAsync(store, m.PackageId, m.Recipient, m.At, ct) : null);
}

/// <summary>A push given up; it waits for an operator.</summary>
public sealed class WebhookDeadLetteredAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<WebhookDeadLettered>
{
    public Task Consume(ConsumeContext<WebhookDeadLettered> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(WebhookDeadLettered m, Guid id) => new([DeliveryEntries.For(m, id, "webhook-dead-lettered", m.At, m.PackageId,
        m.Recipient, $"webhook {m.WebhookId} after {m.Attempts} attempts: {m.Reason}",
        new() { ["webhookId"] = m.WebhookId, ["kind"] = m.Kind, ["attempts"] = m.Attempts })]);
}

/// <summary>A partner endpoint disabled by a 410 Gone answer.</summary>
public sealed class WebhookEndpointDisabledAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<WebhookEndpointDisabled>
{
    public Task Consume(ConsumeContext<WebhookEndpointDisabled> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(WebhookEndpointDisabled m, Guid id) => new([DeliveryEntries.For(m, id, "webhook-endpoint-disabled", m.At,
        m.PackageId, m.Recipient, $"webhook {m.WebhookId}: {m.Reason}",
        new() { ["webhookId"] = m.WebhookId })]);
}

/// <summary>An operator sending a dead-lettered push back: who, and why.</summary>
public sealed class WebhookRetryRequestedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<WebhookRetryRequested>
{
    public Task Consume(ConsumeContext<WebhookRetryRequested> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(WebhookRetryRequested m, Guid id) => new([DeliveryEntries.For(m, id, "webhook-retry", m.At, m.PackageId,
        m.Recipient, $"webhook {m.WebhookId}: {m.Reason ?? "operator retry"}",
        new() { ["webhookId"] = m.WebhookId, ["kind"] = m.Kind, ["endpointReenabled"] = m.EndpointReenabled },
        actor: $"operator {m.RequestedBy}")]);
}

/// <summary>A recipient's acknowledgement of a package or a recall notice.</summary>
public sealed class PackageAcknowledgedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PackageAcknowledged>
{
    public Task Consume(ConsumeContext<PackageAcknowledged> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(PackageAcknowledged m, Guid id) => new([DeliveryEntries.For(m, id,
        m.Kind == "recall" ? "recall-acknowledgement" : "acknowledgement", m.At, m.PackageId, m.Recipient, $"acknowledged by {m.Channel}",
        new() { ["kind"] = m.Kind, ["channel"] = m.Channel }, actor: m.AcknowledgedBy)],
        m.Kind == "package" ? (store, ct) => DeliveredCopy.RecordAsync(store, m.PackageId, m.Recipient, m.At, ct) : null);
}

/// <summary>A recipient bound to acknowledge that has not, by the deadline.</summary>
public sealed class AcknowledgementOverdueAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<AcknowledgementOverdue>
{
    public Task Consume(ConsumeContext<AcknowledgementOverdue> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(AcknowledgementOverdue m, Guid id) => new([DeliveryEntries.For(m, id, "acknowledgement-overdue", m.At,
        m.PackageId, m.Recipient, $"not acknowledged by {m.DueAt:O}", new() { ["releasedAt"] = m.ReleasedAt, ["dueAt"] = m.DueAt },
        originator: m.Originator)]);
}

/// <summary>A permitted copy the gateway could not seal for its recipient (no usable key): nothing was sent, and why.</summary>
public sealed class ReleaseFailedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<ReleaseFailed>
{
    public Task Consume(ConsumeContext<ReleaseFailed> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(ReleaseFailed m, Guid id) => new([DeliveryEntries.For(m, id, "release-failed", m.At, m.PackageId,
        m.Recipient, m.Reason, new() { ["reference"] = m.Reference, ["kind"] = m.Kind }, originator: m.Originator)]);
}

/// <summary>The originator's recall: who, why, who is notified and who never receives the package.</summary>
public sealed class PackageRecalledAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PackageRecalled>
{
    public Task Consume(ConsumeContext<PackageRecalled> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(PackageRecalled m, Guid id) => new([new LedgerRecord
    {
        EventKey = EventKeys.Of(typeof(PackageRecalled), id),
        EventDigest = EventKeys.Digest(m, typeof(PackageRecalled)),
        Type = "recall",
        At = m.At,
        Actor = m.RecalledBy,
        Justification = m.Reason,
        Recipients = [.. m.Notified.Concat(m.Withdrawn)],
        PackageId = m.PackageId,
        Originator = m.Originator,
        Detail = new Dictionary<string, object?>
        {
            ["reference"] = m.Reference,
            ["notified"] = m.Notified,
            ["withdrawn"] = m.Withdrawn,
            ["pending"] = m.Pending,
        },
    }]);
}

internal static class DeliveryEntries
{
    /// <summary>The entry of a delivery event of one recipient's copy.</summary>
    public static LedgerRecord For<T>(T message, Guid id, string type, DateTimeOffset at, Guid packageId, string recipient,
        string justification, Dictionary<string, object?> detail, string? actor = null, string? originator = null) where T : class => new()
    {
        EventKey = EventKeys.Of(typeof(T), id),
        EventDigest = EventKeys.Digest(message, typeof(T)),
        Type = type,
        At = at,
        Actor = actor ?? "gateway",
        Justification = justification,
        Recipients = [recipient],
        PackageId = packageId,
        Originator = originator,
        Partner = recipient,
        Detail = detail,
    };
}

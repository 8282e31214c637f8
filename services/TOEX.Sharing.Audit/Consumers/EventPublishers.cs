using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>
/// Which service publishes each event the ledger records: the only broker user allowed to write that event's exchange
/// (<c>deploy/rabbitmq/definitions.json</c>, checked against this table by a test). Part of every entry's event key, so
/// an event of one type or service can never take the key of another's.
/// </summary>
public static class EventPublishers
{
    public const string Gateway = "gateway";
    public const string PolicyDecision = "policy-decision";
    public const string Audit = "audit";

    public static readonly IReadOnlyDictionary<Type, string> ByType = new Dictionary<Type, string>
    {
        [typeof(PackageSubmitted)] = Gateway,
        [typeof(SharingDecided)] = PolicyDecision,
        [typeof(ReferralDecided)] = Audit,
        [typeof(PackageReleased)] = Gateway,
        [typeof(DecisionRejected)] = Gateway,
        [typeof(ConsultationRecorded)] = Gateway,
        [typeof(WebhookAttemptFailed)] = Gateway,
        [typeof(WebhookDelivered)] = Gateway,
        [typeof(WebhookDeadLettered)] = Gateway,
        [typeof(WebhookEndpointDisabled)] = Gateway,
        [typeof(WebhookRetryRequested)] = Gateway,
        [typeof(PackageAcknowledged)] = Gateway,
        [typeof(AcknowledgementOverdue)] = Gateway,
        [typeof(PackageRecalled)] = Gateway,
        [typeof(ReleaseFailed)] = Gateway,
        [typeof(PartnerKeyRegistered)] = Gateway,
        [typeof(PartnerKeyRevoked)] = Gateway,
        // Its events are each keyed by their own type (all of them the gateway's), never by the batch.
        [typeof(GatewayEventBatch)] = Gateway,
    };

    public static string Of(Type type) => ByType.TryGetValue(type, out var publisher)
        ? publisher
        : throw new InvalidOperationException($"{type.Name} has no publisher in EventPublishers: the ledger cannot key it.");
}

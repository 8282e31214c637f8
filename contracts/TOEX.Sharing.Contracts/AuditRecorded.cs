namespace TOEX.Sharing.Contracts;

/// <summary>
/// The audit worker has the gateway's events <see cref="EventIds"/> (their message ids) in its ledger, appended now or
/// before. A list, so that one message can confirm many; the audit worker sends one per event it records, each from the
/// consumer that recorded it (a confirmation owed by a whole group commit made every consumer of the group wait on one
/// publish, which a broker restart could leave pending for good). Sent only for events the gateway queued in its outbox (<see cref="GatewayOutboxEvents"/>), so the
/// gateway knows how far behind the ledger is and stops releasing when it lags.
/// </summary>
/// <remarks>
/// Evolved compatibly from one message per event: <see cref="MessageId"/> is what an audit worker of before the batches
/// sends (one event), and the gateway still reads it; a worker of now sends <see cref="EventIds"/> only. Upgrade the
/// gateway before the audit worker.
/// </remarks>
public sealed record AuditRecorded
{
    /// <summary>The message ids of the gateway's events now in the ledger.</summary>
    public IReadOnlyList<Guid> EventIds { get; init; } = [];

    /// <summary>One event's message id, from an audit worker of before the batches (read, never sent).</summary>
    public Guid? MessageId { get; init; }

    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>Every event the message confirms, in either form.</summary>
    public IEnumerable<Guid> Confirmed() => MessageId is { } single ? EventIds.Append(single) : EventIds;
}

/// <summary>
/// The events the gateway queues in its outbox (published once its transaction commits) and the audit worker confirms
/// with <see cref="AuditRecorded"/>: every event the gateway publishes except <see cref="PackageSubmitted"/>, which the
/// submission publishes itself before answering 202. One home: the gateway's outbox and the audit worker's confirmations
/// both read this list.
/// </summary>
public static class GatewayOutboxEvents
{
    public static readonly IReadOnlyList<Type> Types =
    [
        typeof(PackageReleased), typeof(DecisionRejected), typeof(WebhookAttemptFailed), typeof(WebhookDelivered),
        typeof(WebhookDeadLettered), typeof(WebhookEndpointDisabled), typeof(WebhookRetryRequested),
        typeof(PackageAcknowledged), typeof(AcknowledgementOverdue), typeof(PackageRecalled), typeof(ConsultationRecorded), typeof(ReleaseFailed),
        typeof(PartnerKeyRegistered), typeof(PartnerKeyRevoked),
    ];

    private static readonly HashSet<Type> Set = [.. Types];

    /// <summary>The same types by name: the name a <see cref="GatewayEvent"/> and the gateway's outbox rows carry.</summary>
    public static readonly IReadOnlyDictionary<string, Type> ByName = Types.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Whether the gateway queues <paramref name="type"/> in its outbox (and waits for the ledger's confirmation of it).</summary>
    public static bool Contains(Type type) => Set.Contains(type);
}

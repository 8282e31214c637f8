namespace TOEX.Sharing.Contracts;

/// <summary>
/// The gateway's outbox events leaving it together in one broker message (fewer, larger messages): each
/// <see cref="GatewayEvent"/> keeps its own message id, which the audit ledger keys it on, so an event published again
/// (in another batch after a crash, or by the re-send of an unconfirmed event) is recognised and recorded once. Only
/// the gateway may write it on the broker, and it carries only the events it queues (<see cref="GatewayOutboxEvents"/>);
/// the audit worker records each event as it records the same event sent alone, and confirms the batch with one
/// <see cref="AuditRecorded"/> naming every event it recorded.
/// </summary>
/// <remarks>
/// Added beside the events' own messages, which the audit worker still consumes (rows queued by a gateway of before the
/// batches, a rolling upgrade). Upgrade the audit worker before the gateway: a batch published while no audit worker
/// consumes it is held by no queue, and waits for the gateway's re-send of unconfirmed events.
/// </remarks>
public sealed record GatewayEventBatch
{
    /// <summary>The events, in the order the gateway queued them.</summary>
    public required IReadOnlyList<GatewayEvent> Events { get; init; }
}

/// <summary>One event of a <see cref="GatewayEventBatch"/>: as the gateway queued it in its outbox.</summary>
public sealed record GatewayEvent
{
    /// <summary>The event's own message id (the one it would carry as a message of its own): the ledger's key for it.</summary>
    public required Guid MessageId { get; init; }

    /// <summary>Its type's name, one of <see cref="GatewayOutboxEvents"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The event, serialised as the gateway stored it (<see cref="ToexJson"/>).</summary>
    public required string Body { get; init; }

    /// <summary>The W3C trace parent of its publish, so that recording it joins the trace of what caused it.</summary>
    public string? TraceParent { get; init; }
}

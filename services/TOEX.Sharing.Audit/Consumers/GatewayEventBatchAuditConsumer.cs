using System.Text.Json;
using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>
/// What each of the gateway's outbox events (<see cref="GatewayOutboxEvents"/>) becomes in the ledger, one home for the
/// event's own consumer (the event sent alone) and <see cref="GatewayEventBatchAuditConsumer"/> (the event in a batch): the
/// same entries under the same keys with the same digest, so an event recorded once is never recorded again, however it
/// comes back.
/// </summary>
public static class GatewayEventEntries
{
    private static readonly Dictionary<Type, Func<object, Guid, LedgerAppend>> ByType = new()
    {
        [typeof(PackageReleased)] = (m, id) => PackageReleasedAuditConsumer.Entries((PackageReleased)m, id),
        [typeof(DecisionRejected)] = (m, id) => DecisionRejectedAuditConsumer.Entries((DecisionRejected)m, id),
        [typeof(ConsultationRecorded)] = (m, id) => ConsultationRecordedAuditConsumer.Entries((ConsultationRecorded)m, id),
        [typeof(WebhookAttemptFailed)] = (m, id) => WebhookAttemptFailedAuditConsumer.Entries((WebhookAttemptFailed)m, id),
        [typeof(WebhookDelivered)] = (m, id) => WebhookDeliveredAuditConsumer.Entries((WebhookDelivered)m, id),
        [typeof(WebhookDeadLettered)] = (m, id) => WebhookDeadLetteredAuditConsumer.Entries((WebhookDeadLettered)m, id),
        [typeof(WebhookEndpointDisabled)] = (m, id) => WebhookEndpointDisabledAuditConsumer.Entries((WebhookEndpointDisabled)m, id),
        [typeof(WebhookRetryRequested)] = (m, id) => WebhookRetryRequestedAuditConsumer.Entries((WebhookRetryRequested)m, id),
        [typeof(PackageAcknowledged)] = (m, id) => PackageAcknowledgedAuditConsumer.Entries((PackageAcknowledged)m, id),
        [typeof(AcknowledgementOverdue)] = (m, id) => AcknowledgementOverdueAuditConsumer.Entries((AcknowledgementOverdue)m, id),
        [typeof(PackageRecalled)] = (m, id) => PackageRecalledAuditConsumer.Entries((PackageRecalled)m, id),
        [typeof(ReleaseFailed)] = (m, id) => ReleaseFailedAuditConsumer.Entries((ReleaseFailed)m, id),
        [typeof(PartnerKeyRegistered)] = (m, id) => PartnerKeyRegisteredAuditConsumer.Entries((PartnerKeyRegistered)m, id),
        [typeof(PartnerKeyRevoked)] = (m, id) => PartnerKeyRevokedAuditConsumer.Entries((PartnerKeyRevoked)m, id),
    };

    /// <summary>The event types it records (a test holds them to <see cref="GatewayOutboxEvents.Types"/>).</summary>
    public static IReadOnlyCollection<Type> Types => ByType.Keys;

    /// <summary>What <paramref name="message"/>, an event of <paramref name="type"/> with message id <paramref name="id"/>, becomes in the ledger.</summary>
    public static LedgerAppend Of(Type type, object message, Guid id) => ByType.TryGetValue(type, out var entries)
        ? entries(message, id)
        : throw new InvalidOperationException($"{type.Name} is not an event of the gateway's outbox.");

    /// <summary>Records the event a consumer received alone (its filter confirms it: <see cref="ConfirmRecordedFilter{T}"/>).</summary>
    public static Task AppendEventAsync<T>(this LedgerWriter ledger, AuditDb db, ConsumeContext<T> context) where T : class
    {
        var append = Of(typeof(T), context.Message, EventKeys.IdOf(context));
        return ledger.AppendAsync(db, append.Drafts, context.CancellationToken, append.Also);
    }
}

/// <summary>
/// A batch of the gateway's outbox events (<see cref="GatewayEventBatch"/>): each recorded exactly as its own consumer records
/// it alone (<see cref="GatewayEventEntries"/>), all in one group commit of the ledger, then confirmed with one
/// <see cref="AuditRecorded"/> naming every event of the batch now in the ledger, published through this consumer's own
/// context after the commit (never on behalf of another message: see <see cref="ConfirmRecordedFilter{T}"/>).
/// </summary>
/// <remarks>
/// An event the ledger cannot record (not one of the gateway's outbox events, a body that is not that event, an event id
/// missing, or a key taken by other content: a forged or replayed event) does not stop the others: they are recorded and
/// confirmed, it is not (the gateway's fail-closed hold stands for it), and the batch then fails with
/// <see cref="GatewayEventsRefusedException"/>, naming each refused event and why, straight to the batch queue's error queue
/// where an operator sees it (a conflict is also a CRITICAL alert, as for an event sent alone). Moved back from there, the
/// batch records nothing twice. A failure of the ledger's transaction fails the whole batch, which is retried.
/// </remarks>
public sealed class GatewayEventBatchAuditConsumer(AuditDb db, LedgerWriter ledger, TimeProvider time,
    ILogger<GatewayEventBatchAuditConsumer> logger) : IConsumer<GatewayEventBatch>
{
    public async Task Consume(ConsumeContext<GatewayEventBatch> context)
    {
        var refused = new List<string>();
        var events = new List<(GatewayEvent Event, Type Type, LedgerAppend Append)>();
        foreach (var item in context.Message.Events ?? [])
        {
            var (append, type, why) = Read(item);
            if (append is null)
            {
                refused.Add($"{item?.Type} {item?.MessageId}: {why}");
                continue;
            }
            events.Add((item!, type!, append));
        }
        var spans = events.Select(e => ToexTelemetry.StartLinkedTo("audit.append", e.Event.TraceParent)).ToList();
        try
        {
            var results = await ledger.AppendEachAsync(db, [.. events.Select(e => e.Append)], context.CancellationToken);
            var recorded = new List<Guid>(events.Count);
            for (var i = 0; i < events.Count; i++)
            {
                var ((item, type, append), (appended, conflict)) = (events[i], results[i]);
                Tag(spans[i], append, appended);
                if (conflict is null)
                {
                    recorded.Add(item.MessageId);
                    continue;
                }
                AuditAlerts.Refused(logger, type.Name, conflict.EventKey);
                refused.Add($"{type.Name} {item.MessageId}: its key {conflict.EventKey} is recorded with other content");
            }
            if (recorded.Count > 0)
            {
                await context.Publish(new AuditRecorded { EventIds = [.. recorded.Distinct()], RecordedAt = time.GetUtcNow() }, context.CancellationToken);
            }
        }
        finally
        {
            foreach (var span in spans)
            {
                span?.Dispose();
            }
        }
        if (refused.Count > 0)
        {
            throw new GatewayEventsRefusedException(refused);
        }
    }

    /// <summary>The event's entries, or why it cannot be recorded (no content of it is repeated: it may be personal data).</summary>
    private static (LedgerAppend? Append, Type? Type, string? Why) Read(GatewayEvent? item)
    {
        if (item is null || item.Type is null || item.Body is null)
        {
            return (null, null, "an event without a type or a body");
        }
        if (!GatewayOutboxEvents.ByName.TryGetValue(item.Type, out var type))
        {
            return (null, null, "not an event of the gateway's outbox");
        }
        if (item.MessageId == Guid.Empty)
        {
            return (null, type, "an event without a message id cannot be recorded idempotently");
        }
        try
        {
            var message = JsonSerializer.Deserialize(item.Body, type, ToexJson.Options);
            return message is null ? (null, type, $"its body is not a {type.Name}") : (GatewayEventEntries.Of(type, message, item.MessageId), type, null);
        }
        // What a body that is not the event can raise: not JSON of it, or JSON of it with a member null that the event's
        // entries read (the wire is a trust boundary: one such event must not stop the batch's others).
        catch (Exception e) when (e is JsonException or NotSupportedException or NullReferenceException or ArgumentException or InvalidOperationException)
        {
            return (null, type, $"its body is not a {type.Name} ({e.GetType().Name})");
        }
    }

    private static void Tag(System.Diagnostics.Activity? span, LedgerAppend append, int appended)
    {
        if (span is null)
        {
            return;
        }
        span.SetTag("toex.ledger.appended", appended);
        span.SetTag("toex.ledger.entry_type", append.Drafts.Count > 0 ? append.Drafts[0].Type : null);
        span.SetTag("toex.package_id", append.Drafts.Count > 0 ? append.Drafts[0].PackageId?.ToString() : null);
    }
}

/// <summary>
/// Events of a <see cref="GatewayEventBatch"/> the ledger refused (the rest of the batch is recorded and confirmed): the batch
/// goes to its error queue, not retried, since the same events would be refused again.
/// </summary>
public sealed class GatewayEventsRefusedException(IReadOnlyList<string> refused)
    : Exception($"{refused.Count} event(s) of the batch were not recorded (the others were, and are confirmed): {string.Join("; ", refused)}.")
{
    public IReadOnlyList<string> Refused { get; } = refused;
}

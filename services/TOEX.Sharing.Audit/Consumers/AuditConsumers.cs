using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Referrals;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>A submission: who submitted what, under which purpose and lawful basis, for whom.</summary>
public sealed class PackageSubmittedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PackageSubmitted>
{
    public async Task Consume(ConsumeContext<PackageSubmitted> context)
    {
        var m = context.Message;
        var subjects = m.SubjectIndexes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // Saved with the entry, in its transaction, once (a redelivery appends nothing and adds nothing).
        await ledger.AppendAsync(db, [new LedgerRecord
        {
            EventKey = EventKeys.Of(context),
            EventDigest = EventKeys.Digest(context),
            Type = "submission",
            At = m.SubmittedAt,
            Actor = m.SubmittedBy,
            Justification = $"purpose {m.Facts.Purpose}; lawful basis {m.Facts.LawfulBasis}"
                + (m.Facts.StatutoryGateways.Count > 0 ? $"; gateways {string.Join(", ", m.Facts.StatutoryGateways)}" : ""),
            Recipients = m.Facts.Recipients,
            PackageId = m.PackageId,
            Originator = m.Originator,
            Detail = new Dictionary<string, object?>
            {
                ["reference"] = m.Reference,
                ["submittedByPerson"] = m.SubmittedByPerson,
                ["contentHash"] = m.ContentHash,
                ["classification"] = m.Facts.Classification,
                ["handlingCode"] = m.Facts.HandlingCode,
                ["dataCategories"] = m.Facts.DataCategories,
                ["subjectCount"] = m.Facts.SubjectCount,
                ["subjects"] = subjects,
            },
        }], context.CancellationToken, (store, _) =>
        {
            store.SubjectIndexes.AddRange(subjects.Select(s => new SubjectIndex { BlindIndex = s, PackageId = m.PackageId }));
            return Task.CompletedTask;
        });
    }
}

/// <summary>A decision: one entry per recipient, with its outcome, agreement and reasons.</summary>
public sealed class SharingDecidedAuditConsumer(AuditDb db, LedgerWriter ledger, DecisionReader decisions, TimeProvider time)
    : IConsumer<SharingDecided>
{
    public Task Consume(ConsumeContext<SharingDecided> context)
    {
        var (decision, verified, why) = decisions.Read(context.Message.DecisionJws);
        if (decision is null)
        {
            return ledger.AppendAsync(db, [new LedgerRecord
            {
                EventKey = EventKeys.Of(context),
                EventDigest = EventKeys.Digest(context),
                Type = "decision-unreadable",
                At = time.GetUtcNow(),
                Actor = "policy-decision",
                Justification = why ?? "unreadable decision",
                Recipients = [],
                PackageId = context.Message.PackageId,
            }], context.CancellationToken);
        }
        var drafts = decision.Decisions.Select(d => new LedgerRecord
        {
            EventKey = EventKeys.Of(context, d.Recipient),
            // An unverified one is held to its exact bytes: nothing vouches that two of them decided the same.
            EventDigest = verified ? EventKeys.Digest(decision) : EventKeys.Digest(context),
            // A decision whose signature does not verify is recorded, but never as an outcome: queries by
            // outcome return only decisions PolicyDecision is proven to have taken.
            Type = verified ? "decision" : "decision-unverified",
            At = decision.DecidedAt,
            Actor = "policy-decision",
            Justification = d.Reasons.Count == 0 ? "all rules satisfied" : string.Join(", ", d.Reasons.Select(r => r.Code)),
            Recipients = [d.Recipient],
            PackageId = decision.PackageId,
            Partner = d.Recipient,
            Agreement = d.Agreement,
            Outcome = verified ? d.Outcome : null,
            Detail = new Dictionary<string, object?>
            {
                ["claimedOutcome"] = verified ? null : d.Outcome,
                ["policyVersion"] = decision.PolicyVersion,
                ["contentHash"] = decision.ContentHash,
                ["signatureVerified"] = verified,
                ["signatureProblem"] = why,
                ["reasons"] = d.Reasons,
                ["obligations"] = d.Obligations.Select(o => o.Type).ToList(),
            },
        }).ToList();
        return AppendWithReferralsAsync(decision, verified, drafts, context.CancellationToken);
    }

    /// <summary>
    /// A verified refer becomes a referral an IG officer can decide, saved with the decision's ledger entries.
    /// Its id is the one the gateway holds the copy under.
    /// </summary>
    private Task<int> AppendWithReferralsAsync(SignedDecision decision, bool verified, List<LedgerRecord> drafts, CancellationToken ct) =>
        ledger.AppendAsync(db, drafts, ct, async (store, cancellationToken) =>
        {
            if (!verified)
            {
                return;
            }
            foreach (var refer in decision.Decisions.Where(d => d.Outcome == "refer"))
            {
                var id = ServiceDefaults.DerivedId.From(decision.PackageId, $"referral/{refer.Recipient}");
                // Another decision message for the same package (a different message id) may have made it already.
                if (!await store.Referrals.AnyAsync(r => r.Id == id, cancellationToken) && store.Referrals.Local.All(r => r.Id != id))
                {
                    store.Referrals.Add(new Referral
                    {
                        Id = id,
                        PackageId = decision.PackageId,
                        Recipient = refer.Recipient,
                        Agreement = refer.Agreement,
                        ReasonsJson = ToexJson.Serialize(refer.Reasons),
                        ObligationsJson = ToexJson.Serialize(refer.Obligations),
                        ReferredAtUnixMs = decision.DecidedAt.ToUnixTimeMilliseconds(),
                    });
                }
            }
        });
}

/// <summary>A release: a disclosure to one recipient, what was withheld, and on whose authority.</summary>
public sealed class PackageReleasedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PackageReleased>
{
    public Task Consume(ConsumeContext<PackageReleased> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(PackageReleased m, Guid id) => new([new LedgerRecord
    {
        EventKey = EventKeys.Of(typeof(PackageReleased), id),
        EventDigest = EventKeys.Digest(m, typeof(PackageReleased)),
        // A recall notice is a disclosure too (it names the package to the recipient), but not a permit.
        Type = m.Kind == "recall" ? "recall-notice" : "release",
        At = m.ReleasedAt,
        Actor = $"gateway, authorised by {m.AuthorisedBy}",
        Justification = m.Kind == "recall" ? $"recall: {m.Justification}"
            : $"purpose {m.Purpose}; lawful basis {m.LawfulBasis}; agreement {m.Agreement ?? "none"}",
        Recipients = [m.Recipient],
        PackageId = m.PackageId,
        Originator = m.Originator,
        Partner = m.Recipient,
        Agreement = m.Agreement,
        Outcome = m.Kind == "recall" ? null : "permit",
        Detail = new Dictionary<string, object?>
        {
            ["reference"] = m.Reference,
            ["kind"] = m.Kind,
            ["policyVersion"] = m.PolicyVersion,
            ["withheldFields"] = m.WithheldFields,
            ["feedCursor"] = m.FeedCursor,
            ["sealedSha256"] = m.SealedSha256,
        },
    }]);
}

/// <summary>A decision the gateway refused to act on: nothing released.</summary>
public sealed class DecisionRejectedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<DecisionRejected>
{
    public Task Consume(ConsumeContext<DecisionRejected> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(DecisionRejected m, Guid id) => new([new LedgerRecord
    {
        EventKey = EventKeys.Of(typeof(DecisionRejected), id),
        EventDigest = EventKeys.Digest(m, typeof(DecisionRejected)),
        Type = "decision-rejected",
        At = m.RejectedAt,
        Actor = "gateway",
        Justification = m.Why,
        Recipients = [],
        PackageId = m.PackageId,
    }]);
}

/// <summary>
/// A consultation of personal data at the gateway (s62): one entry per package shown, with who, when, why, and
/// for a feed read the item's recipient, kind and cursor and the page requested.
/// </summary>
public sealed class ConsultationRecordedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<ConsultationRecorded>
{
    public Task Consume(ConsumeContext<ConsultationRecorded> context) => ledger.AppendEventAsync(db, context);

    internal static LedgerAppend Entries(ConsultationRecorded m, Guid id)
    {
        var digest = EventKeys.Digest(m, typeof(ConsultationRecorded));
        return new([.. m.Items.Select((item, i) => new LedgerRecord
        {
            EventKey = EventKeys.Of(typeof(ConsultationRecorded), id, i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            EventDigest = digest,
            Type = "consultation",
            At = m.At,
            Actor = m.Actor,
            Justification = m.Justification,
            Recipients = [m.Organisation],
            PackageId = item.PackageId,
            Originator = item.Originator,
            Partner = item.Recipient,
            Detail = new Dictionary<string, object?>
            {
                ["kind"] = m.Kind,
                ["itemKind"] = item.Kind,
                ["cursor"] = item.Cursor,
                ["request"] = m.Request,
            },
        })], async (store, cancellationToken) =>
        {
            // A feed read that returned a package: its recipient has it.
            if (m.Kind == "feed-read")
            {
                foreach (var item in m.Items.Where(i => i.Kind == "package" && i.Recipient == m.Organisation))
                {
                    await DeliveredCopy.RecordAsync(store, item.PackageId, m.Organisation, m.At, cancellationToken);
                }
            }
        });
    }
}

internal static class EventKeys
{
    /// <summary>
    /// The entry's idempotency key: the publishing service, the event type and the message id (and a part where one
    /// message yields several entries). A redelivered event is recognised and not appended twice; an event of
    /// another type or service cannot pre-empt it.
    /// </summary>
    public static string Of<T>(ConsumeContext<T> context, string? part = null) where T : class => Of(typeof(T), IdOf(context), part);

    /// <summary>The key of an event of <paramref name="type"/> with message id <paramref name="id"/> (sent alone or in a batch).</summary>
    public static string Of(Type type, Guid id, string? part = null)
    {
        var key = $"{EventPublishers.Of(type)}/{type.Name}/{id:N}";
        return part is null ? key : $"{key}:{part}";
    }

    /// <summary>The message id the ledger keys an event on; an event without one cannot be recorded idempotently.</summary>
    public static Guid IdOf(ConsumeContext context) =>
        context.MessageId ?? throw new InvalidOperationException("An event without a message id cannot be audited idempotently.");

    /// <summary>The event's content digest: the same event delivered again has the same one; other content under its key does not.</summary>
    public static string Digest<T>(ConsumeContext<T> context) where T : class => Digest(context.Message, typeof(T));

    /// <summary>The digest of <paramref name="message"/> as an event of <paramref name="type"/>, whether it came alone or in a batch.</summary>
    public static string Digest(object message, Type type) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(message, type, ToexJson.Options)));

    /// <summary>
    /// A verified decision's digest: of what was decided (package, content hash, policy version, each recipient's outcome,
    /// agreement, reasons and obligations), not of the signed bytes. PolicyDecision decides a submission delivered again
    /// (after a broker restart lost its acknowledgement) under the same message id, derived from the submission's, but
    /// stamps the time anew and signs with ES256, whose signatures are randomised: that is the same decision, not other
    /// content under its key (the fault suite saw each such one refused as forged, with a critical alert and an error-queue
    /// message). A second decision that differs in what was decided is still refused.
    /// </summary>
    public static string Digest(SignedDecision decision) =>
        "decision-sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            ToexJson.SerializeToUtf8Bytes(decision with { DecidedAt = DateTimeOffset.UnixEpoch })));
}

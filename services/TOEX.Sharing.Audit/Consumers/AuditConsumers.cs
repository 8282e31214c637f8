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
        // Saved with the entry; a redelivery finds them there already.
        if (subjects.Count > 0 && !await db.SubjectIndexes.AnyAsync(s => s.PackageId == m.PackageId, context.CancellationToken))
        {
            db.SubjectIndexes.AddRange(subjects.Select(s => new SubjectIndex { BlindIndex = s, PackageId = m.PackageId }));
        }
        await ledger.AppendAsync(db, [new LedgerRecord
        {
            EventKey = EventKeys.Of(context),
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
                ["contentHash"] = m.ContentHash,
                ["classification"] = m.Facts.Classification,
                ["handlingCode"] = m.Facts.HandlingCode,
                ["dataCategories"] = m.Facts.DataCategories,
                ["subjectCount"] = m.Facts.SubjectDatesOfBirth.Count,
                ["subjects"] = subjects,
            },
        }], context.CancellationToken);
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
    private async Task AppendWithReferralsAsync(SignedDecision decision, bool verified, List<LedgerRecord> drafts, CancellationToken ct)
    {
        if (verified)
        {
            foreach (var refer in decision.Decisions.Where(d => d.Outcome == "refer"))
            {
                var id = ServiceDefaults.DerivedId.From(decision.PackageId, $"referral/{refer.Recipient}");
                if (!await db.Referrals.AnyAsync(r => r.Id == id, ct))
                {
                    db.Referrals.Add(new Referral
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
        }
        await ledger.AppendAsync(db, drafts, ct);
    }
}

/// <summary>A release: a disclosure to one recipient, what was withheld, and on whose authority.</summary>
public sealed class PackageReleasedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<PackageReleased>
{
    public async Task Consume(ConsumeContext<PackageReleased> context)
    {
        var m = context.Message;
        await ledger.AppendAsync(db, [new LedgerRecord
        {
            EventKey = EventKeys.Of(context),
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
        }], context.CancellationToken);
    }
}

/// <summary>A decision the gateway refused to act on: nothing released.</summary>
public sealed class DecisionRejectedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<DecisionRejected>
{
    public async Task Consume(ConsumeContext<DecisionRejected> context)
    {
        await ledger.AppendAsync(db, [new LedgerRecord
        {
            EventKey = EventKeys.Of(context),
            Type = "decision-rejected",
            At = context.Message.RejectedAt,
            Actor = "gateway",
            Justification = context.Message.Why,
            Recipients = [],
            PackageId = context.Message.PackageId,
        }], context.CancellationToken);
    }
}

/// <summary>
/// A consultation of personal data at the gateway (s62): one entry per package shown, with who, when, why, and
/// for a feed read the item's recipient, kind and cursor and the page requested.
/// </summary>
public sealed class ConsultationRecordedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<ConsultationRecorded>
{
    public async Task Consume(ConsumeContext<ConsultationRecorded> context)
    {
        var m = context.Message;
        await ledger.AppendAsync(db, [.. m.Items.Select((item, i) => new LedgerRecord
        {
            EventKey = EventKeys.Of(context, i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
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
        })], context.CancellationToken);
    }
}

internal static class EventKeys
{
    /// <summary>The message id is the idempotency key: a redelivered event is recognised and not appended twice.</summary>
    public static string Of(ConsumeContext context, string? part = null)
    {
        var id = context.MessageId ?? throw new InvalidOperationException("An event without a message id cannot be audited idempotently.");
        return part is null ? id.ToString("N") : $"{id:N}:{part}";
    }
}

using MassTransit;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Audit.Ledger;
using TOEX.Sharing.Contracts;

namespace TOEX.Sharing.Audit.Consumers;

/// <summary>An IG officer's decision on a referral: who, when, why, for which recipient.</summary>
public sealed class ReferralDecidedAuditConsumer(AuditDb db, LedgerWriter ledger) : IConsumer<ReferralDecided>
{
    public Task Consume(ConsumeContext<ReferralDecided> context)
    {
        var m = context.Message;
        return ledger.AppendAsync(db, [new LedgerRecord
        {
            EventKey = EventKeys.Of(context),
            EventDigest = EventKeys.Digest(context),
            Type = $"referral-{m.Decision}",
            At = m.DecidedAt,
            Actor = m.DecidedBy,
            Justification = m.Justification,
            Recipients = [m.Recipient],
            PackageId = m.PackageId,
            Originator = m.Originator,
            Partner = m.Recipient,
            Agreement = m.Agreement,
            Outcome = m.Decision == "approved" ? "permit" : "deny",
            Detail = new Dictionary<string, object?> { ["referralId"] = m.ReferralId },
        }], context.CancellationToken);
    }
}

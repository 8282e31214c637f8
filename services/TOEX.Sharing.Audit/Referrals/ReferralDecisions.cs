using System.Security.Claims;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Audit.Referrals;

/// <summary>What an IG officer decides on a referral.</summary>
public enum ReferralVerdict
{
    Approved,
    Rejected,
}

/// <summary>What came of an officer's decision.</summary>
public enum ReferralOutcome
{
    /// <summary>Recorded, signed and published: the gateway releases (approved) or denies (rejected).</summary>
    Decided,

    /// <summary>No referral of the officer's organisation has that id (another organisation's is the same as none).</summary>
    NotFound,

    /// <summary>Decided already, by this officer or another.</summary>
    AlreadyDecided,

    /// <summary>The officer submitted the package: they cannot approve its referral.</summary>
    SubmitterCannotApprove,

    /// <summary>The broker did not confirm the decision: nothing was recorded.</summary>
    BrokerUnavailable,
}

public sealed record ReferralDecisionResult(ReferralOutcome Outcome, string? DecidedBy = null, DateTimeOffset? DecidedAt = null, string? PreviousDecision = null);

/// <summary>
/// An IG officer approving or rejecting a referral (the API and the console both decide through this): only a referral
/// of a package the officer's organisation originated; once; never approved by the person who submitted the package
/// (compared as a person, <see cref="Authentication.Person"/>, not by the per-application subject). The decision is
/// signed with the audit service's keys and published only once the broker confirmed it; the gateway acts on the
/// signed decision alone.
/// </summary>
public sealed class ReferralDecisions(AuditDb db, IPublishEndpoint publisher, IKeyRing keys, TimeProvider time)
{
    public static string Wire(ReferralVerdict verdict) => verdict == ReferralVerdict.Approved ? "approved" : "rejected";

    public async Task<ReferralDecisionResult> DecideAsync(Guid id, ReferralVerdict verdict, string justification, ClaimsPrincipal officer,
        CancellationToken cancellationToken)
    {
        var decision = Wire(verdict);
        var referral = await db.Referrals.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        var submission = referral is null ? null : await SubmissionOfAsync(db, referral.PackageId, cancellationToken);
        if (referral is null || submission is null || submission.Originator != officer.Organisation())
        {
            return new(ReferralOutcome.NotFound);
        }
        if (referral.Decision is not null)
        {
            return new(ReferralOutcome.AlreadyDecided, PreviousDecision: referral.Decision);
        }
        var actor = officer.Actor();
        var person = officer.Person();
        if (verdict == ReferralVerdict.Approved && (person == submission.SubmittedByPerson || actor == submission.SubmittedBy))
        {
            return new(ReferralOutcome.SubmitterCannotApprove);
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Claim the referral: of two officers deciding at once, exactly one succeeds.
        var claimed = await db.Referrals.Where(r => r.Id == id && r.Decision == null).ExecuteUpdateAsync(set => set
            .SetProperty(r => r.Decision, decision)
            .SetProperty(r => r.DecidedBy, actor)
            .SetProperty(r => r.Justification, justification)
            .SetProperty(r => r.DecidedAtUnixMs, now.ToUnixTimeMilliseconds()), cancellationToken);
        if (claimed == 0)
        {
            return new(ReferralOutcome.AlreadyDecided);
        }

        var signed = new SignedReferralDecision
        {
            ReferralId = id,
            PackageId = referral.PackageId,
            Originator = submission.Originator,
            Recipient = referral.Recipient,
            Agreement = referral.Agreement,
            Decision = decision,
            DecidedBy = actor,
            DecidedByPerson = person,
            Justification = justification,
            DecidedAt = now,
        };
        // Answered only once the broker confirmed the decision; otherwise nothing is recorded.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await publisher.Publish(new ReferralDecided
            {
                ReferralId = id,
                PackageId = referral.PackageId,
                Originator = submission.Originator,
                Recipient = referral.Recipient,
                Agreement = referral.Agreement,
                Decision = decision,
                DecidedBy = actor,
                Justification = justification,
                DecidedAt = now,
                DecisionJws = new ReferralDecisionSigner(keys.Current).Sign(signed),
            }, publish => publish.MessageId = DerivedId.From(id, "referral-decided"), timeout.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            return new(ReferralOutcome.BrokerUnavailable);
        }
        await transaction.CommitAsync(CancellationToken.None);
        return new(ReferralOutcome.Decided, actor, now);
    }

    /// <summary>Who originated and submitted a package, from its submission entry in the ledger.</summary>
    public sealed record Submission(string? Originator, string SubmittedBy, string? SubmittedByPerson);

    public static async Task<Submission?> SubmissionOfAsync(AuditDb db, Guid packageId, CancellationToken cancellationToken)
    {
        var entry = await db.Entries.AsNoTracking().Where(e => e.PackageId == packageId && e.Type == "submission")
            .Select(e => new { e.Originator, e.Actor, e.Canonical }).FirstOrDefaultAsync(cancellationToken);
        return entry is null ? null
            : new Submission(entry.Originator, entry.Actor, (string?)JsonNode.Parse(entry.Canonical)?["detail"]?["submittedByPerson"]);
    }
}

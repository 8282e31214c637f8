using MassTransit;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Consumers;

/// <summary>
/// Applies an IG officer's decision on a referral (taken, checked and recorded by the audit service): an
/// approval releases the recipient's copy through the normal flow, on the officer's authority; a rejection
/// denies. A referral is decided once: a repeated or conflicting decision changes nothing.
/// </summary>
public sealed class ReferralDecidedConsumer(
    GatewayDb db, Releaser releaser, OutboxSignal outbox, AuditKeys auditKeys, ILogger<ReferralDecidedConsumer> logger)
    : IConsumer<ReferralDecided>
{
    public async Task Consume(ConsumeContext<ReferralDecided> context)
    {
        // Only the decision the audit service signed is acted on: an unsigned or forged one releases nothing.
        SignedReferralDecision message;
        try
        {
            message = auditKeys.Verify(context.Message.DecisionJws
                ?? throw new SealException("The referral decision is not signed."));
        }
        catch (SealException e)
        {
            logger.LogError("Referral decision {ReferralId} refused: {Why}", context.Message.ReferralId, e.Message);
            return;
        }
        var state = await db.Recipients.SingleOrDefaultAsync(r => r.ReferralId == message.ReferralId, context.CancellationToken);
        var submission = state is null ? null
            : await db.Submissions.SingleOrDefaultAsync(s => s.Id == state.PackageId, context.CancellationToken);
        if (state is null || submission is null || submission.Id != message.PackageId || state.Partner != message.Recipient
            || submission.Originator != message.Originator)
        {
            logger.LogError("Referral decision {ReferralId} names no referral of package {PackageId}; ignored", message.ReferralId, message.PackageId);
            return;
        }
        if (submission.RecalledAt is not null)
        {
            logger.LogInformation("Referral {ReferralId} decided after package {PackageId} was recalled: nothing released", message.ReferralId, submission.Id);
            return;
        }
        if (state.ReferralDecision is not null)
        {
            logger.LogInformation("Referral {ReferralId} already {Decision}", message.ReferralId, state.ReferralDecision);
            return;
        }
        if (message.Decision is not ("approved" or "rejected")
            || (message.Decision == "approved" && (message.DecidedByPerson == submission.SubmittedByPerson || message.DecidedBy == submission.SubmittedBy)))
        {
            // The audit service enforces these; the gateway does not take its word for them. The person is compared, not
            // the per-application subject a token carries.
            logger.LogError("Referral decision {ReferralId} refused: {Decision} by the submitter or unknown", message.ReferralId, message.Decision);
            return;
        }

        submission.Touch();
        var approved = message.Decision == "approved";
        RecipientLife.ReferralDecided(state, approved, message.DecidedBy, message.Justification, message.DecidedAt);
        if (approved)
        {
            var (authorisedBy, justification) = RecipientLife.Authority(state);
            await releaser.ReleaseAsync(submission, RecipientLife.PermitOf(state), submission.PolicyVersion!, state,
                authorisedBy, justification, context.CancellationToken);
        }
        await releaser.CommitAsync(context.CancellationToken);
        outbox.Notify();
    }
}

public sealed class ReferralDecidedConsumerDefinition : DurableConsumerDefinition<ReferralDecidedConsumer>;

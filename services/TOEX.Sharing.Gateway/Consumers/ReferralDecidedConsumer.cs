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
/// denies. A referral is decided once: a repeated or conflicting decision changes nothing. The signature is verified
/// here; the rest is one change of the gateway's writer, which reads the referral in its own transaction, checks it (still
/// awaited, package not recalled) and decides it there. One per human action, so the approved copy is sealed inside the
/// change (a fresh releaser each time it is applied).
/// </summary>
public sealed class ReferralDecidedConsumer(
    GatewayDb db, GatewayWriter writer, AuditGate auditGate, IServiceProvider services, OutboxSignal outbox, AuditKeys auditKeys,
    ILogger<ReferralDecidedConsumer> logger)
    : IConsumer<ReferralDecided>
{
    private enum Verdict
    {
        NoSuchReferral,
        Recalled,
        AlreadyDecided,
        Refused,
        Decided,
    }

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
        // The audit ledger's lag, read before the change (an approval is held while it lags).
        var lag = await auditGate.CheckAsync(db, context.CancellationToken);
        // Waited for to the end: the change uses this consumer's scope, which must outlive it.
        var (verdict, releaser, detail) = await writer.WriteAsync((target, token) => DecideAsync(target, message, lag, token),
            CancellationToken.None);
        switch (verdict)
        {
            case Verdict.NoSuchReferral:
                logger.LogError("Referral decision {ReferralId} names no referral of package {PackageId}; ignored", message.ReferralId, message.PackageId);
                return;
            case Verdict.Recalled:
                logger.LogInformation("Referral {ReferralId} decided after package {PackageId} was recalled: nothing released", message.ReferralId,
                    message.PackageId);
                return;
            case Verdict.AlreadyDecided:
                logger.LogInformation("Referral {ReferralId} already {Decision}", message.ReferralId, detail);
                return;
            case Verdict.Refused:
                logger.LogError("Referral decision {ReferralId} refused: {Decision} by the submitter or unknown", message.ReferralId, message.Decision);
                return;
        }
        releaser!.NotifyCommitted();
        outbox.Notify();
    }

    /// <summary>The writer's change: checks the referral as it is now and decides it; re-runnable (a fresh releaser each time).</summary>
    private async Task<(Verdict Verdict, Releaser? Releaser, string? Detail)> DecideAsync(GatewayDb target, SignedReferralDecision message,
        AuditLag lag, CancellationToken cancellationToken)
    {
        var state = await target.Recipients.SingleOrDefaultAsync(r => r.ReferralId == message.ReferralId, cancellationToken);
        var submission = state is null ? null
            : await target.Submissions.SingleOrDefaultAsync(s => s.Id == state.PackageId, cancellationToken);
        if (state is null || submission is null || submission.Id != message.PackageId || state.Partner != message.Recipient
            || submission.Originator != message.Originator)
        {
            return (Verdict.NoSuchReferral, null, null);
        }
        if (submission.RecalledAt is not null)
        {
            return (Verdict.Recalled, null, null);
        }
        if (state.ReferralDecision is not null)
        {
            return (Verdict.AlreadyDecided, null, state.ReferralDecision);
        }
        if (message.Decision is not ("approved" or "rejected")
            || (message.Decision == "approved" && (message.DecidedByPerson == submission.SubmittedByPerson || message.DecidedBy == submission.SubmittedBy)))
        {
            // The audit service enforces these; the gateway does not take its word for them. The person is compared, not
            // the per-application subject a token carries.
            return (Verdict.Refused, null, null);
        }

        submission.Touch();
        var approved = message.Decision == "approved";
        RecipientLife.ReferralDecided(state, approved, message.DecidedBy, message.Justification, message.DecidedAt);
        var releaser = ActivatorUtilities.CreateInstance<Releaser>(services);
        releaser.Assume(lag);
        if (approved)
        {
            var (authorisedBy, justification) = RecipientLife.Authority(state);
            await releaser.ReleaseAsync(submission, RecipientLife.PermitOf(state), submission.PolicyVersion!, state,
                authorisedBy, justification, cancellationToken);
        }
        await releaser.WriteAsync(target, cancellationToken);
        return (Verdict.Decided, releaser, null);
    }
}

public sealed class ReferralDecidedConsumerDefinition : DurableConsumerDefinition<ReferralDecidedConsumer>;

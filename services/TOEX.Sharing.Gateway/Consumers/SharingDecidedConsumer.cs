using System.Security.Cryptography;
using System.Text;
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
/// Acts on a signed decision: verifies it, then for each recipient records the outcome and, on a permit,
/// makes the recipient's copy, seals it for that recipient alone and puts it on its feed. Everything a
/// decision changes, and the events it raises, commit in one transaction (the outbox publishes them).
/// </summary>
public sealed class SharingDecidedConsumer(
    GatewayDb db, DecisionKeys decisionKeys, Releaser releaser, OutboxSignal outbox, ILogger<SharingDecidedConsumer> logger)
    : IConsumer<SharingDecided>
{
    public async Task Consume(ConsumeContext<SharingDecided> context)
    {
        var message = context.Message;
        using var activity = ToexTelemetry.Source.StartActivity("gateway.release");
        activity?.SetTag("toex.package_id", message.PackageId.ToString());

        var submission = await db.Submissions.Include(s => s.Recipients)
            .SingleOrDefaultAsync(s => s.Id == message.PackageId, context.CancellationToken);
        if (submission is null)
        {
            logger.LogWarning("Decision for unknown package {PackageId} ignored", message.PackageId);
            return;
        }
        if (submission.Status != SubmissionStatus.Submitted)
        {
            logger.LogInformation("Decision for package {PackageId} already handled ({Status})", submission.Id, submission.Status);
            return;
        }

        submission.Touch();
        var now = releaser.Now;
        var decision = Verify(message, submission, out var why);
        if (decision is null)
        {
            submission.Status = SubmissionStatus.DecisionRejected;
            submission.RejectionReason = why;
            foreach (var recipient in submission.Recipients)
            {
                RecipientLife.DecisionRejected(recipient);
            }
            releaser.Enqueue(new DecisionRejected { PackageId = submission.Id, Why = why!, RejectedAt = now },
                DerivedId.From(context.MessageId ?? submission.Id, "decision-rejected"));
            await releaser.CommitAsync(context.CancellationToken);
            outbox.Notify();
            logger.LogError("Decision for package {PackageId} refused: {Why}", submission.Id, why);
            return;
        }

        submission.Status = SubmissionStatus.Decided;
        submission.PolicyVersion = decision.PolicyVersion;
        submission.DecidedAt = decision.DecidedAt;
        submission.DecisionJws = message.DecisionJws;

        foreach (var recipientDecision in decision.Decisions)
        {
            var state = submission.Recipients.Single(r => r.Partner == recipientDecision.Recipient);
            // Verified above: every outcome names one.
            var outcome = StateText.Parse<Outcome>(recipientDecision.Outcome)!.Value;
            RecipientLife.Decided(state, outcome, recipientDecision.Agreement, ToexJson.Serialize(recipientDecision.Reasons),
                ToexJson.Serialize(recipientDecision.Obligations), now);
            if (outcome == Outcome.Permit)
            {
                await releaser.ReleaseAsync(submission, recipientDecision, decision.PolicyVersion, state, authorisedBy: "policy-decision",
                    justification: null, context.CancellationToken);
            }
        }

        await releaser.CommitAsync(context.CancellationToken);
        outbox.Notify();
        logger.LogInformation("Package {PackageId} decided under policy {PolicyVersion}: {Outcomes}", submission.Id, decision.PolicyVersion,
            string.Join(' ', decision.Decisions.Select(d => $"{d.Recipient}={d.Outcome}")));
    }

    private SignedDecision? Verify(SharingDecided message, Submission submission, out string? why)
    {
        SignedDecision decision;
        try
        {
            decision = decisionKeys.Verify(message.DecisionJws);
        }
        catch (SealException e)
        {
            why = $"signature: {e.Message}";
            return null;
        }
        why = decision switch
        {
            _ when decision.PackageId != submission.Id || message.PackageId != submission.Id => "the decision is for another package",
            _ when decision.ContentHash != submission.ContentHash => "the decision is for other content",
            _ when !decision.Decisions.Select(d => d.Recipient).Order(StringComparer.Ordinal)
                .SequenceEqual(submission.Recipients.Select(r => r.Partner).Order(StringComparer.Ordinal)) => "the decision's recipients differ from the package's",
            _ when decision.Decisions.Any(d => StateText.Parse<Outcome>(d.Outcome) is null) => "the decision has an unknown outcome",
            _ => null,
        };
        return why is null ? decision : null;
    }
}

public sealed class SharingDecidedConsumerDefinition : DurableConsumerDefinition<SharingDecidedConsumer>
{
    // Decisions for one package are acted on once; the store serialises writers anyway.
    public SharingDecidedConsumerDefinition() => ConcurrentMessageLimit = 4;
}

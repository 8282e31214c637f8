using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Contracts;
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
    GatewayDb db, DecisionKeys decisionKeys, PartnerKeys partnerKeys, PackageSealer sealer, OutboxSignal outbox,
    TimeProvider time, ILogger<SharingDecidedConsumer> logger) : IConsumer<SharingDecided>
{
    public async Task Consume(ConsumeContext<SharingDecided> context)
    {
        var message = context.Message;
        using var activity = ToexTelemetry.Source.StartActivity("gateway.release");
        activity?.SetTag("toex.package_id", message.PackageId);

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

        var now = time.GetUtcNow();
        var decision = Verify(message, submission, out var why);
        if (decision is null)
        {
            submission.Status = SubmissionStatus.DecisionRejected;
            submission.RejectionReason = why;
            foreach (var recipient in submission.Recipients)
            {
                recipient.DeliveryState = DeliveryState.Withheld;
                recipient.LastError = "The decision failed verification; nothing was released.";
            }
            Enqueue(new DecisionRejected { PackageId = submission.Id, Why = why!, RejectedAt = now },
                DerivedId.From(context.MessageId ?? submission.Id, "decision-rejected"), now);
            await db.SaveChangesAsync(context.CancellationToken);
            outbox.Notify();
            logger.LogError("Decision for package {PackageId} refused: {Why}", submission.Id, why);
            return;
        }

        submission.Status = SubmissionStatus.Decided;
        submission.PolicyVersion = decision.PolicyVersion;
        submission.DecidedAt = decision.DecidedAt;
        submission.DecisionJws = message.DecisionJws;
        var package = ToexJson.Deserialize<IntelligencePackage>(submission.PackageJson);

        var releases = new List<(FeedItem Item, PackageReleased Event)>();
        foreach (var recipientDecision in decision.Decisions)
        {
            var state = submission.Recipients.Single(r => r.Partner == recipientDecision.Recipient);
            state.Outcome = recipientDecision.Outcome;
            state.Agreement = recipientDecision.Agreement;
            state.ReasonsJson = ToexJson.Serialize(recipientDecision.Reasons);
            state.ObligationsJson = ToexJson.Serialize(recipientDecision.Obligations);
            switch (recipientDecision.Outcome)
            {
                case "permit":
                    if (Release(submission, package, decision, recipientDecision, state, now) is { } release)
                    {
                        releases.Add(release);
                    }
                    break;
                case "refer":
                    state.DeliveryState = DeliveryState.AwaitingReferral;
                    break;
                default:
                    state.DeliveryState = DeliveryState.Withheld;
                    break;
            }
        }

        // Feed cursors are assigned by the store: save the items, then record the release events that
        // name them, in the same transaction.
        await using (var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken))
        {
            await db.SaveChangesAsync(context.CancellationToken);
            foreach (var (item, released) in releases)
            {
                Enqueue(released with { FeedCursor = item.Cursor },
                    DerivedId.From(submission.Id, $"released/{item.Recipient}/{item.Kind}"), now);
            }
            await db.SaveChangesAsync(context.CancellationToken);
            await transaction.CommitAsync(context.CancellationToken);
        }
        outbox.Notify();
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
            _ when decision.Decisions.Any(d => d.Outcome is not ("permit" or "refer" or "deny")) => "the decision has an unknown outcome",
            _ => null,
        };
        return why is null ? decision : null;
    }

    private (FeedItem, PackageReleased)? Release(Submission submission, IntelligencePackage package, SignedDecision decision,
        RecipientDecision recipientDecision, RecipientState state, DateTimeOffset now)
    {
        var key = partnerKeys.Find(recipientDecision.Recipient);
        if (key is null)
        {
            // Fail closed: no key, no copy.
            state.DeliveryState = DeliveryState.Failed;
            state.LastError = "No encryption key is registered for this partner; nothing was released.";
            logger.LogError("Package {PackageId} not released to {Recipient}: no partner key", submission.Id, recipientDecision.Recipient);
            return null;
        }

        var copy = RecipientCopy.Build(submission.Id, submission.PackageJson, recipientDecision, decision.PolicyVersion, now);
        var sealedCopy = sealer.Seal(Encoding.UTF8.GetBytes(copy.ToJsonString(ToexJson.Options)), key);
        var item = new FeedItem
        {
            Recipient = recipientDecision.Recipient,
            PackageId = submission.Id,
            Kind = RecipientCopy.Kind,
            Sealed = sealedCopy,
            ReleasedAt = now,
        };
        db.Feed.Add(item);
        state.DeliveryState = DeliveryState.Released;
        state.ReleasedAt = now;
        state.Attempts = 1;

        var withheld = recipientDecision.Obligations.Where(o => o.Type == "sanitise").SelectMany(o => o.Fields ?? []).ToList();
        logger.LogInformation("Package {PackageId} released to {Recipient} under {Agreement}",
            submission.Id, recipientDecision.Recipient, recipientDecision.Agreement);
        return (item, new PackageReleased
        {
            PackageId = submission.Id,
            Reference = submission.Reference,
            Originator = submission.Originator,
            Recipient = recipientDecision.Recipient,
            Kind = RecipientCopy.Kind,
            Agreement = recipientDecision.Agreement,
            Purpose = package.Purpose,
            LawfulBasis = package.LawfulBasis,
            PolicyVersion = decision.PolicyVersion,
            AuthorisedBy = "policy-decision",
            WithheldFields = withheld,
            FeedCursor = 0,
            SealedSha256 = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(sealedCopy))),
            ReleasedAt = now,
        });
    }

    private void Enqueue<T>(T message, Guid messageId, DateTimeOffset now) where T : class =>
        db.Outbox.Add(new OutboxMessage
        {
            MessageId = messageId,
            MessageType = typeof(T).Name,
            Body = ToexJson.Serialize(message),
            CreatedAt = now,
        });
}

public sealed class SharingDecidedConsumerDefinition : ConsumerDefinition<SharingDecidedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SharingDecidedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(5, TimeSpan.FromMilliseconds(200),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500)));
        // Decisions for one package are acted on once; the store serialises writers anyway.
        endpointConfigurator.ConcurrentMessageLimit = 4;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            rabbit.SetQueueArgument("x-delivery-limit", 10);
        }
    }
}

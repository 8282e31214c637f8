using MassTransit;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Policy;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.PolicyDecision;

/// <summary>Decides a submitted package for every recipient at the current instant and publishes the signed decision.</summary>
public sealed class PackageSubmittedConsumer(
    PolicyEngine engine, IKeyRing keys, TimeProvider time, ILogger<PackageSubmittedConsumer> logger)
    : IConsumer<PackageSubmitted>
{
    public async Task Consume(ConsumeContext<PackageSubmitted> context)
    {
        var submitted = context.Message;
        using var activity = ToexTelemetry.Source.StartActivity("policy.decide");
        activity?.SetTag("toex.package_id", submitted.PackageId.ToString());

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var decidedAt = time.GetUtcNow();
        var document = engine.Decide(submitted.Facts, decidedAt);
        var signed = new SignedDecision
        {
            PackageId = submitted.PackageId,
            ContentHash = submitted.ContentHash,
            DecidedAt = decidedAt,
            PolicyVersion = document.PolicyVersion,
            Decisions = document.Decisions,
        };
        var jws = new DecisionSigner(keys.Current).Sign(signed);

        ToexTelemetry.DecisionDuration.Record(ToexTelemetry.ElapsedMs(started));
        foreach (var decision in document.Decisions)
        {
            var outcome = new KeyValuePair<string, object?>("outcome", decision.Outcome);
            ToexTelemetry.Decisions.Add(1, outcome, new("reason", decision.Reasons.Count > 0 ? decision.Reasons[0].Code : "none"));
            foreach (var reason in decision.Reasons)
            {
                ToexTelemetry.DecisionReasons.Add(1, outcome, new("reason", reason.Code));
            }
            logger.LogInformation("Package {PackageId}: {Outcome} for {Recipient} under {Agreement}",
                submitted.PackageId, decision.Outcome, decision.Recipient, decision.Agreement ?? "no agreement");
        }

        // The message id is derived from the submission's, so a redelivered submission yields the same
        // decision message id and the ledger and gateway see it once.
        var messageId = context.MessageId is { } id ? DerivedId.From(id, "sharing-decided") : NewId.NextGuid();
        await context.Publish(new SharingDecided { PackageId = submitted.PackageId, DecisionJws = jws },
            publish => publish.MessageId = messageId, context.CancellationToken);
    }
}

public sealed class PackageSubmittedConsumerDefinition : DurableConsumerDefinition<PackageSubmittedConsumer>
{
    // Named where the gateway finds it to ask for a decision again (SentEndpoints): one name for both.
    public PackageSubmittedConsumerDefinition() => EndpointName = SentEndpoints.PolicyDecisionPackageSubmitted;
}

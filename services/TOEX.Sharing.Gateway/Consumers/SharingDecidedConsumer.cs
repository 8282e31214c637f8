using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Core;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Consumers;

/// <summary>
/// Acts on signed decisions, a batch at a time: verifies each, then for each recipient records the outcome and, on a
/// permit, makes the recipient's copy, seals it for that recipient alone and puts it on its feed. Verifying and sealing
/// are done here, on a reading of the package; the gateway's writer then applies every decision of the batch in one
/// transaction, each as its own change: it reads the package again, and applies the decision only if the package is still
/// as it was read (undecided: the first decision wins, a redelivered or repeated one is ignored). Everything a decision
/// changes, and the events it raises, commit together (the outbox publishes them). A package whose release fails (an
/// exception) fails alone: the others commit, and it stays undecided until the <see cref="DecisionResender"/> asks
/// PolicyDecision for its decision again. A batch none of whose decisions could be acted on (the store or the decision keys
/// unavailable) is failed, and retried by the endpoint's retries, as a single decision was.
/// </summary>
public sealed class SharingDecidedConsumer(
    GatewayDb db, DecisionKeys decisionKeys, GatewayWriter writer, IServiceProvider services,
    ILogger<SharingDecidedConsumer> logger)
    : IConsumer<Batch<SharingDecided>>
{
    /// <summary>How many times a decision is prepared again when its package changed between the reading and the write.</summary>
    private const int Tries = 3;

    private AuditLag? _auditLag;

    public async Task Consume(ConsumeContext<Batch<SharingDecided>> context)
    {
        // One decision per package in a batch: the first wins, as it would across batches.
        var decisions = context.Message.DistinctBy(m => m.Message.PackageId).ToList();
        // Read, verified and sealed one after the other (on this consumer's context), each handed to the writer as soon as it
        // is prepared: the writer commits them together.
        var failures = new List<Exception>();
        var writes = new List<(ConsumeContext<SharingDecided> Decision, Task<Written> Write)>(decisions.Count);
        foreach (var decision in decisions)
        {
            try
            {
                writes.Add((decision, await PrepareAsync(decision, context.CancellationToken)));
            }
            catch (Exception e)
            {
                failures.Add(Failed(decision, e));
            }
        }
        foreach (var (decision, write) in writes)
        {
            try
            {
                if (await write == Written.Stale)
                {
                    await DecideAsync(decision, context.CancellationToken);
                }
            }
            catch (Exception e)
            {
                failures.Add(Failed(decision, e));
            }
        }
        if (failures.Count == 0 || failures.Count < decisions.Count)
        {
            // The others are acted on; a package whose release failed is still undecided, and is asked of PolicyDecision
            // again by the DecisionResender (so it is neither lost nor dead-lettered with the decisions that committed).
            return;
        }
        // Nothing of the batch could be acted on (the store or the decision keys unavailable): retried as a whole.
        if (failures.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failures[0]);
        }
        throw new AggregateException("No decision of the batch could be acted on.", failures);
    }

    private Exception Failed(ConsumeContext<SharingDecided> decision, Exception e)
    {
        logger.LogError(e, "Decision for package {PackageId} could not be acted on; the others of its batch are", decision.Message.PackageId);
        return e;
    }

    /// <summary>Prepares and writes a decision again, while its package changed between the reading and the write.</summary>
    private async Task DecideAsync(ConsumeContext<SharingDecided> context, CancellationToken cancellationToken)
    {
        for (var attempt = 2; ; attempt++)
        {
            var outcome = await await PrepareAsync(context, cancellationToken);
            if (outcome != Written.Stale)
            {
                return;
            }
            if (attempt == Tries)
            {
                throw new DbUpdateConcurrencyException($"Package {context.Message.PackageId} kept changing while its decision was applied.");
            }
        }
    }

    private enum Written
    {
        Ignored,
        Applied,
        Stale,
    }

    /// <summary>
    /// Reads the package, verifies the decision and seals the copies it permits; returns the writer's task that applies it
    /// (handed over, not awaited).
    /// </summary>
    private async Task<Task<Written>> PrepareAsync(ConsumeContext<SharingDecided> context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        // In the decision's trace (its send's activity, which MassTransit carries in a transport header): a batch is consumed
        // in the activity of one of its messages, not of each.
        using var activity = ToexTelemetry.StartLinkedTo("gateway.release",
            context.ReceiveContext.TransportHeaders.Get<string>(MassTransit.Logging.DiagnosticHeaders.ActivityId));
        activity?.SetTag("toex.package_id", message.PackageId.ToString());

        // A reading to prepare on: what the decision changes is applied to it here, then copied by the writer onto the
        // package as it is then, if it is still this reading.
        var submission = await db.Submissions.AsNoTracking().Include(s => s.Recipients)
            .SingleOrDefaultAsync(s => s.Id == message.PackageId, cancellationToken);
        if (submission is null)
        {
            logger.LogWarning("Decision for package {PackageId} ignored: not a package of this gateway", message.PackageId);
            return Task.FromResult(Written.Ignored);
        }
        if (submission.Status != SubmissionStatus.Submitted)
        {
            logger.LogInformation("Decision for package {PackageId} already handled ({Status})", submission.Id, submission.Status);
            return Task.FromResult(Written.Ignored);
        }

        var version = submission.Version;
        submission.Touch();
        // One releaser per decision: its copies and events are its package's alone.
        var releaser = ActivatorUtilities.CreateInstance<Releaser>(services);
        // The audit ledger's lag, checked once for the batch.
        if (_auditLag is { } lag)
        {
            releaser.Assume(lag);
        }
        else
        {
            _auditLag = await releaser.AuditLagAsync(cancellationToken);
        }
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
        }
        else
        {
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
                        justification: null, cancellationToken);
                }
            }
        }

        var write = writer.WriteAsync(async (target, token) =>
        {
            var current = await target.Submissions.Include(s => s.Recipients).SingleOrDefaultAsync(s => s.Id == submission.Id, token);
            if (current is null || current.Status != SubmissionStatus.Submitted)
            {
                return Written.Ignored;
            }
            if (current.Version != version)
            {
                return Written.Stale;
            }
            target.Entry(current).CurrentValues.SetValues(submission);
            foreach (var state in current.Recipients)
            {
                target.Entry(state).CurrentValues.SetValues(submission.Recipients.Single(r => r.Partner == state.Partner));
            }
            await releaser.WriteAsync(target, token);
            return Written.Applied;
        }, cancellationToken);
        return ReportAsync(write, submission, releaser, decision, why);
    }

    /// <summary>Once the writer has committed (or refused) the decision: wakes the outbox and the dispatcher, and says what became of it.</summary>
    private async Task<Written> ReportAsync(Task<Written> write, Submission submission, Releaser releaser, SignedDecision? decision, string? why)
    {
        var written = await write;
        if (written != Written.Applied)
        {
            if (written == Written.Ignored)
            {
                logger.LogInformation("Decision for package {PackageId} already handled", submission.Id);
            }
            return written;
        }
        releaser.NotifyCommitted();
        if (decision is null)
        {
            logger.LogError("Decision for package {PackageId} refused: {Why}", submission.Id, why);
        }
        else
        {
            logger.LogInformation("Package {PackageId} decided under policy {PolicyVersion}: {Outcomes}", submission.Id, decision.PolicyVersion,
                string.Join(' ', decision.Decisions.Select(d => $"{d.Recipient}={d.Outcome}")));
        }
        return Written.Applied;
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

/// <summary>
/// Decisions are taken in batches (up to <see cref="MessageLimit"/>, or whatever arrived within
/// <see cref="GatewayOptions.DecisionBatchWindow"/> of the first), on the durable endpoint's quorum queue, with its retries,
/// delivery limit and dead-lettering.
/// </summary>
public sealed class SharingDecidedConsumerDefinition : DurableConsumerDefinition<SharingDecidedConsumer>
{
    public const int MessageLimit = 100;

    /// <summary>Batches acted on at once (their commits are grouped by the writer).</summary>
    private const int Batches = 2;

    private readonly TimeSpan _window;

    public SharingDecidedConsumerDefinition(IOptions<GatewayOptions> options)
    {
        _window = options.Value.DecisionBatchWindow;
        // A batch holds its messages unsettled until it ends: the endpoint lets enough in for every batch to fill.
        ConcurrentMessageLimit = MessageLimit * Batches;
        Endpoint(e => e.PrefetchCount = MessageLimit * Batches);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SharingDecidedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        base.ConfigureConsumer(endpointConfigurator, consumerConfigurator, context);
        consumerConfigurator.Options<BatchOptions>(batch => batch.SetMessageLimit(MessageLimit).SetTimeLimit(_window)
            .SetTimeLimitStart(BatchTimeLimitStart.FromFirst).SetConcurrencyLimit(Batches));
    }
}

using Microsoft.EntityFrameworkCore;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Gateway.Release;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Core;

/// <summary>
/// Releases a recipient's copy: builds it from the decision's obligations, seals it for that recipient
/// alone, puts it on the recipient's feed, queues its push when the partner takes push delivery, and records
/// the release event in the outbox. A partner with no registered key gets nothing. Used on a permit, on an
/// approved referral, and for a recall notice.
/// </summary>
public sealed class Releaser(
    GatewayDb db, PartnerKeys partnerKeys, PackageSealer sealer, PackageVault vault, AuditGate auditGate, IPushPartners endpoints,
    IOptions<GatewayOptions> options, IOptions<WebhookOptions> webhooks, OutboxSignal outbox, WebhookSignal pushes, TimeProvider time,
    ILogger<Releaser> logger)
{
    private readonly List<(FeedItem Item, PackageReleased Event)> _pending = [];
    private AuditLag? _auditLag;

    public DateTimeOffset Now { get; } = time.GetUtcNow();

    /// <summary>How far the audit ledger lags, checked once per releaser (one message, one batch).</summary>
    public async Task<AuditLag> AuditLagAsync(CancellationToken cancellationToken) =>
        _auditLag ??= await auditGate.CheckAsync(db, cancellationToken);

    /// <summary>
    /// Prepares the release; it is written by <see cref="WriteAsync"/> in a change of the gateway's writer. Fails closed:
    /// while the audit ledger lags beyond its limit the copy is not made, the recipient is marked held with the reason, and
    /// <see cref="HeldReleases"/> releases it once the ledger catches up.
    /// </summary>
    public async Task<bool> ReleaseAsync(Submission submission, RecipientDecision decision, string policyVersion, RecipientState state,
        string authorisedBy, string? justification, CancellationToken cancellationToken)
    {
        var lag = await AuditLagAsync(cancellationToken);
        if (lag.Holding)
        {
            RecipientLife.Held(state, lag.Reason!);
            ToexTelemetry.ReleasesWithheld.Add(1, new KeyValuePair<string, object?>("why", "audit-ledger-lag"));
            logger.LogWarning("Package {PackageId} held for {Recipient}: the audit ledger lags by {Lag}", submission.Id, decision.Recipient, lag.Lag);
            return false;
        }
        return Release(submission, decision, policyVersion, state, authorisedBy, justification);
    }

    private bool Release(Submission submission, RecipientDecision decision, string policyVersion, RecipientState state,
        string authorisedBy, string? justification)
    {
        var (key, problem) = partnerKeys.Find(decision.Recipient, Now);
        if (key is null)
        {
            // Fail closed: no key, no copy, for this recipient alone; the reason is on its status and in the ledger.
            RecipientLife.Failed(state, $"{problem} Nothing was released.");
            Failed(submission, decision.Recipient, ItemKind.Package, state.LastError!);
            return false;
        }

        // A copy is written only with the package as it was read: a recall committed meanwhile refuses this commit.
        submission.Touch();
        var body = vault.Open(submission.Id, submission.PackageJson);
        var package = ToexJson.Deserialize<IntelligencePackage>(body);
        var copy = RecipientCopy.Build(submission.Id, body, decision, policyVersion, Now);
        var sealedCopy = Add(submission, decision.Recipient, ItemKind.Package, copy, key);
        RecipientLife.Released(state, Now,
            decision.Obligations.Any(o => o.Type == "acknowledge") ? Now + options.Value.AcknowledgementDeadline : null);

        Released(submission, package, decision.Recipient, ItemKind.Package, decision.Agreement, policyVersion, authorisedBy, justification,
            [.. decision.Obligations.Where(o => o.Type == "sanitise").SelectMany(o => o.Fields ?? [])], sealedCopy);
        ToexTelemetry.Releases.Add(1, new("kind", ItemKind.Package.Text()), new("authority", authorisedBy == "policy-decision" ? "policy-decision" : "ig-officer"));
        ToexTelemetry.ReleaseLatency.Record((Now - submission.SubmittedAt).TotalMilliseconds);
        logger.LogInformation("Package {PackageId} released to {Recipient} under {Agreement}", submission.Id, decision.Recipient, decision.Agreement);
        return true;
    }

    /// <summary>
    /// Prepares a recall notice for a recipient that had the package: signed and sealed for it alone like the
    /// package, on its feed as kind <c>recall</c> and pushed when it takes push delivery.
    /// </summary>
    public bool ReleaseRecallNotice(Submission submission, RecipientState state)
    {
        var reason = submission.RecallReason ?? throw new InvalidOperationException("The package is not recalled.");
        var recalledBy = $"originator {submission.RecalledBy}";
        var (key, problem) = partnerKeys.Find(state.Partner, Now);
        if (key is null)
        {
            Failed(submission, state.Partner, ItemKind.Recall, $"{problem} The recall notice was not sent.");
            return false;
        }
        var package = ToexJson.Deserialize<IntelligencePackage>(vault.Open(submission.Id, submission.PackageJson));
        var notice = new JsonObject
        {
            ["kind"] = ItemKind.Recall.Text(),
            ["packageId"] = submission.Id,
            ["reference"] = submission.Reference,
            ["originator"] = submission.Originator,
            ["recipient"] = state.Partner,
            ["reason"] = reason,
            ["recalledAt"] = submission.RecalledAt,
            ["instruction"] = "Stop using this package, delete every copy you hold and acknowledge this notice.",
        };
        var digest = Add(submission, state.Partner, ItemKind.Recall, notice, key);
        Released(submission, package, state.Partner, ItemKind.Recall, state.Agreement, submission.PolicyVersion ?? "", recalledBy, reason, [], digest);
        ToexTelemetry.Releases.Add(1, new("kind", ItemKind.Recall.Text()), new("authority", "originator"));
        logger.LogInformation("Recall notice for package {PackageId} released to {Recipient}", submission.Id, state.Partner);
        return true;
    }

    /// <summary>A copy that could not be sealed for its recipient: the event that puts the reason in the ledger.</summary>
    private void Failed(Submission submission, string recipient, ItemKind kind, string reason)
    {
        Enqueue(new ReleaseFailed
        {
            PackageId = submission.Id,
            Reference = submission.Reference,
            Originator = submission.Originator,
            Recipient = recipient,
            Kind = kind.Text(),
            Reason = reason,
            At = Now,
        }, DerivedId.From(submission.Id, $"release-failed/{recipient}/{kind.Text()}/{submission.Version}"));
        ToexTelemetry.ReleasesWithheld.Add(1, new KeyValuePair<string, object?>("why", "no-partner-key"));
        logger.LogError("{Kind} of package {PackageId} not released to {Recipient}: no usable partner key", kind.Text(), submission.Id, recipient);
    }

    /// <summary>The release event of the item just added (its feed cursor is filled in on commit).</summary>
    private void Released(Submission submission, IntelligencePackage package, string recipient, ItemKind kind, string? agreement,
        string policyVersion, string authorisedBy, string? justification, IReadOnlyList<string> withheld, string digest) =>
        _pending[^1] = (_pending[^1].Item, new PackageReleased
        {
            PackageId = submission.Id,
            Reference = submission.Reference,
            Originator = submission.Originator,
            Recipient = recipient,
            Kind = kind.Text(),
            Agreement = agreement,
            Purpose = package.Purpose,
            LawfulBasis = package.LawfulBasis,
            PolicyVersion = policyVersion,
            AuthorisedBy = authorisedBy,
            Justification = justification,
            WithheldFields = withheld,
            FeedCursor = 0,
            SealedSha256 = digest,
            ReleasedAt = Now,
        });

    /// <summary>Seals <paramref name="content"/> for the recipient and puts it on its feed; returns the sealed copy's digest.</summary>
    private string Add(Submission submission, string recipient, ItemKind kind, JsonObject content, RecipientKey key)
    {
        string sealedCopy;
        using (var activity = ToexTelemetry.Source.StartActivity("gateway.seal"))
        {
            activity?.SetTag("toex.recipient", recipient);
            activity?.SetTag("toex.item_kind", kind.Text());
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            sealedCopy = sealer.Seal(Encoding.UTF8.GetBytes(content.ToJsonString(ToexJson.Options)), key);
            ToexTelemetry.SealDuration.Record(ToexTelemetry.ElapsedMs(started));
        }
        var item = new FeedItem
        {
            Recipient = recipient,
            PackageId = submission.Id,
            Kind = kind,
            Sealed = sealedCopy,
            ReleasedAt = Now,
        };
        _pending.Add((item, null!));
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(sealedCopy)));
    }

    /// <summary>Records an event to publish once the transaction commits (added to the store by <see cref="WriteAsync"/>).</summary>
    public void Enqueue<T>(T message, Guid messageId) where T : class => _events.Add(target => target.Enqueue(message, messageId, Now));

    private readonly List<Action<GatewayDb>> _events = [];

    /// <summary>Takes the audit ledger's lag as already checked (one check for a batch of decisions, each with its own releaser).</summary>
    public void Assume(AuditLag lag) => _auditLag = lag;

    /// <summary>
    /// Writes the prepared copies and events on <paramref name="target"/>, inside the transaction it holds (the gateway's
    /// writer's): the store assigns feed cursors, then the release events and pushes that name them are
    /// recorded beside the items. The caller commits, then calls <see cref="NotifyCommitted"/>. It can be written again
    /// (the writer applies a change again alone when its group's commit failed): each write adds fresh rows.
    /// </summary>
    public async Task WriteAsync(GatewayDb target, CancellationToken cancellationToken)
    {
        foreach (var add in _events)
        {
            add(target);
        }
        if (_pending.Count == 0)
        {
            await target.SaveChangesAsync(cancellationToken);
            return;
        }
        // Feed cursors must become visible in the order they are assigned, or a reader could pass one still uncommitted.
        await target.Database.LockForTransactionAsync(StoreLock.Feed, cancellationToken);
        var items = new List<(FeedItem Item, PackageReleased Event)>(_pending.Count);
        foreach (var recipient in _pending.GroupBy(p => p.Item.Recipient))
        {
            var last = await target.Feed.Where(f => f.Recipient == recipient.Key).MaxAsync(f => (long?)f.Position, cancellationToken) ?? 0;
            foreach (var (prepared, released) in recipient)
            {
                var item = new FeedItem
                {
                    Recipient = prepared.Recipient,
                    PackageId = prepared.PackageId,
                    Kind = prepared.Kind,
                    Sealed = prepared.Sealed,
                    ReleasedAt = prepared.ReleasedAt,
                    Position = ++last,
                };
                target.Feed.Add(item);
                items.Add((item, released));
            }
        }
        await target.SaveChangesAsync(cancellationToken);
        var queued = false;
        foreach (var (item, released) in items)
        {
            target.Enqueue(released with { FeedCursor = item.Position }, DerivedId.From(item.PackageId, $"released/{item.Recipient}/{item.Kind.Text()}"), Now);
            if (endpoints.IsPush(item.Recipient))
            {
                target.Webhooks.Add(RecipientLife.PushQueued(item, Now, webhooks.Value.Horizon, ToexTelemetry.CurrentTraceParent()));
                queued = true;
            }
        }
        await target.SaveChangesAsync(cancellationToken);
        _queued |= queued;
    }

    private bool _queued;

    /// <summary>Wakes the outbox and the dispatcher; the caller calls it once the writer has committed its change.</summary>
    public void NotifyCommitted()
    {
        outbox.Notify();
        if (_queued)
        {
            pushes.Notify();
        }
    }
}

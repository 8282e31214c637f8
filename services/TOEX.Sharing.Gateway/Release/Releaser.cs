using System.Security.Cryptography;
using System.Text;
using TOEX.Sharing.Contracts;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Release;

/// <summary>
/// Releases a recipient's copy: builds it from the decision's obligations, seals it for that recipient
/// alone, puts it on the recipient's feed, and records the release event in the outbox. A partner with
/// no registered key gets nothing. Used on a permit and on an approved referral.
/// </summary>
public sealed class Releaser(
    GatewayDb db, PartnerKeys partnerKeys, PackageSealer sealer, AuditGate auditGate, TimeProvider time, ILogger<Releaser> logger)
{
    private readonly List<(FeedItem Item, PackageReleased Event)> _pending = [];
    private AuditLag? _auditLag;

    public DateTimeOffset Now { get; } = time.GetUtcNow();

    /// <summary>How far the audit ledger lags, checked once per releaser (one message, one batch).</summary>
    public async Task<AuditLag> AuditLagAsync(CancellationToken cancellationToken) =>
        _auditLag ??= await auditGate.CheckAsync(db, cancellationToken);

    /// <summary>
    /// Prepares the release; it is written by <see cref="CommitAsync"/>. Fails closed: while the audit ledger lags
    /// beyond its limit the copy is not made, the recipient is marked held with the reason, and
    /// <see cref="HeldReleases"/> releases it once the ledger catches up.
    /// </summary>
    public async Task<bool> ReleaseAsync(Submission submission, RecipientDecision decision, string policyVersion, RecipientState state,
        string authorisedBy, string? justification, CancellationToken cancellationToken)
    {
        var lag = await AuditLagAsync(cancellationToken);
        if (lag.Holding)
        {
            state.DeliveryState = DeliveryState.Held;
            state.LastError = lag.Reason;
            logger.LogWarning("Package {PackageId} held for {Recipient}: the audit ledger lags by {Lag}", submission.Id, decision.Recipient, lag.Lag);
            return false;
        }
        return Release(submission, decision, policyVersion, state, authorisedBy, justification);
    }

    private bool Release(Submission submission, RecipientDecision decision, string policyVersion, RecipientState state,
        string authorisedBy, string? justification)
    {
        var key = partnerKeys.Find(decision.Recipient);
        if (key is null)
        {
            // Fail closed: no key, no copy.
            state.DeliveryState = DeliveryState.Failed;
            state.LastError = "No encryption key is registered for this partner; nothing was released.";
            logger.LogError("Package {PackageId} not released to {Recipient}: no partner key", submission.Id, decision.Recipient);
            return false;
        }

        var package = ToexJson.Deserialize<IntelligencePackage>(submission.PackageJson);
        var copy = RecipientCopy.Build(submission.Id, submission.PackageJson, decision, policyVersion, Now);
        var sealedCopy = sealer.Seal(Encoding.UTF8.GetBytes(copy.ToJsonString(ToexJson.Options)), key);
        var item = new FeedItem
        {
            Recipient = decision.Recipient,
            PackageId = submission.Id,
            Kind = RecipientCopy.Kind,
            Sealed = sealedCopy,
            ReleasedAt = Now,
        };
        db.Feed.Add(item);
        state.DeliveryState = DeliveryState.Released;
        state.ReleasedAt = Now;
        state.Attempts = 1;
        state.LastError = null;

        _pending.Add((item, new PackageReleased
        {
            PackageId = submission.Id,
            Reference = submission.Reference,
            Originator = submission.Originator,
            Recipient = decision.Recipient,
            Kind = RecipientCopy.Kind,
            Agreement = decision.Agreement,
            Purpose = package.Purpose,
            LawfulBasis = package.LawfulBasis,
            PolicyVersion = policyVersion,
            AuthorisedBy = authorisedBy,
            Justification = justification,
            WithheldFields = [.. decision.Obligations.Where(o => o.Type == "sanitise").SelectMany(o => o.Fields ?? [])],
            FeedCursor = 0,
            SealedSha256 = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(sealedCopy))),
            ReleasedAt = Now,
        }));
        logger.LogInformation("Package {PackageId} released to {Recipient} under {Agreement}", submission.Id, decision.Recipient, decision.Agreement);
        return true;
    }

    /// <summary>Records an event to publish once the transaction commits.</summary>
    public void Enqueue<T>(T message, Guid messageId) where T : class => db.Outbox.Add(OutboxMessages.For(message, messageId, Now));

    /// <summary>
    /// Writes everything in one transaction: the store assigns feed cursors, then the release events
    /// that name them are recorded beside the items.
    /// </summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        // Joins a transaction the caller already holds (an approval claims its referral first).
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        // Feed cursors must become visible in the order they are assigned, or a reader could pass one still uncommitted.
        await db.Database.LockForTransactionAsync(StoreLock.Feed, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var (item, released) in _pending)
        {
            Enqueue(released with { FeedCursor = item.Cursor }, ServiceDefaults.DerivedId.From(item.PackageId, $"released/{item.Recipient}/{item.Kind}"));
        }
        await db.SaveChangesAsync(cancellationToken);
        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
            await own.DisposeAsync();
        }
        _pending.Clear();
    }
}

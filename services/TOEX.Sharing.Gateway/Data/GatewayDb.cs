using Microsoft.EntityFrameworkCore;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>The gateway's store: submissions, per-recipient state, feeds and the outbox.</summary>
public sealed class GatewayDb(DbContextOptions<GatewayDb> options) : DbContext(options)
{
    public DbSet<Submission> Submissions => Set<Submission>();
    public DbSet<RecipientState> Recipients => Set<RecipientState>();
    public DbSet<FeedItem> Feed => Set<FeedItem>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();
    public DbSet<WebhookDelivery> Webhooks => Set<WebhookDelivery>();
    public DbSet<WebhookEndpointState> WebhookEndpoints => Set<WebhookEndpointState>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Submission>(e =>
        {
            e.HasKey(s => s.Id);
            e.HasIndex(s => new { s.Originator, s.Reference }).IsUnique();
            e.HasMany(s => s.Recipients).WithOne().HasForeignKey(r => r.PackageId);
            e.Property(s => s.Version).IsConcurrencyToken();
        });
        modelBuilder.Entity<RecipientState>(e =>
        {
            e.HasKey(r => new { r.PackageId, r.Partner });
            e.HasIndex(r => r.ReferralId).IsUnique();
            // Held copies are looked for after every confirmation from the audit worker: never by scanning every recipient.
            e.HasIndex(r => r.DeliveryState);
            // So are acknowledgements coming due, on every round of the webhook dispatcher.
            e.HasIndex(r => r.AcknowledgementDueAtUnixMs);
        });
        modelBuilder.Entity<FeedItem>(e =>
        {
            e.HasKey(f => f.Cursor);
            e.Property(f => f.Cursor).ValueGeneratedOnAdd();
            e.HasIndex(f => new { f.Recipient, f.Cursor });
            // The cursor a partner sees: its own feed's position, which says nothing of other partners' traffic.
            e.HasIndex(f => new { f.Recipient, f.Position }).IsUnique();
            e.HasIndex(f => new { f.Recipient, f.PackageId, f.Kind }).IsUnique();
        });
        modelBuilder.Entity<OutboxMessage>(e =>
        {
            e.HasKey(o => o.Sequence);
            e.Property(o => o.Sequence).ValueGeneratedOnAdd();
            e.HasIndex(o => o.MessageId).IsUnique();
            e.HasIndex(o => o.SentAt);
            e.HasIndex(o => new { o.ConfirmedAt, o.Sequence });
        });
        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.HasKey(w => w.Id);
            e.Property(w => w.Id).ValueGeneratedNever();
            // One push per copy: a repeated release cannot queue a second webhook.
            e.HasIndex(w => new { w.Recipient, w.PackageId, w.Kind }).IsUnique();
            e.HasIndex(w => new { w.State, w.NextAttemptAtUnixMs });
        });
        modelBuilder.Entity<WebhookEndpointState>(e => e.HasKey(w => w.Partner));
    }

    /// <summary>Every state is stored as its text (<see cref="StateText"/>), as before the states were enums.</summary>
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<Outcome>().HaveConversion<StateConverter<Outcome>>();
        configurationBuilder.Properties<DeliveryState>().HaveConversion<StateConverter<DeliveryState>>();
        configurationBuilder.Properties<RecallAction>().HaveConversion<StateConverter<RecallAction>>();
        configurationBuilder.Properties<PushState>().HaveConversion<StateConverter<PushState>>();
        configurationBuilder.Properties<ItemKind>().HaveConversion<StateConverter<ItemKind>>();
    }
}

public static class SubmissionStatus
{
    public const string Submitted = "submitted";
    public const string Decided = "decided";
    public const string DecisionRejected = "decision-rejected";
    public const string Recalled = "recalled";
}

public sealed class Submission
{
    public Guid Id { get; set; }
    public required string Reference { get; set; }
    public required string Originator { get; set; }
    public required string ContentHash { get; set; }
    public required string SubmittedBy { get; set; }
    /// <summary>The submitter as a person (issuer and subject; Entra: tenant and object id): never the approver of its referral.</summary>
    public string? SubmittedByPerson { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    /// <summary>The package as submitted (canonical JSON), encrypted at rest under its own data key (<see cref="PackageVault"/>): the source of every recipient's copy.</summary>
    public required string PackageJson { get; set; }
    public required string Status { get; set; }
    public bool Published { get; set; }
    public string? PolicyVersion { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    /// <summary>The signed decision as received: the evidence for every release of this package.</summary>
    public string? DecisionJws { get; set; }
    public string? RejectionReason { get; set; }
    public DateTimeOffset? RecalledAt { get; set; }

    /// <summary>
    /// Bumped by every change that decides what the recipients get (a decision, a release, an approval, a recall):
    /// two such changes made from the same reading cannot both commit, so a release prepared before a recall
    /// committed is refused rather than written after it (and retried, it finds the package recalled).
    /// </summary>
    public long Version { get; set; }

    /// <summary>Marks a change to what the recipients get (see <see cref="Version"/>).</summary>
    public void Touch() => Version++;
    public string? RecalledBy { get; set; }
    public string? RecallReason { get; set; }
    public List<RecipientState> Recipients { get; set; } = [];
}

public sealed class RecipientState
{
    public Guid PackageId { get; set; }
    public required string Partner { get; set; }
    public int Position { get; set; }
    public Outcome? Outcome { get; set; }
    public string? Agreement { get; set; }
    public string? ReasonsJson { get; set; }
    public string? ObligationsJson { get; set; }
    public required DeliveryState DeliveryState { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? ReleasedAt { get; set; }
    /// <summary>When the copy first reached the recipient: a push its endpoint accepted, or a feed read that returned it.</summary>
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    /// <summary>Set on release when the acknowledge obligation applies: when the acknowledgement falls due, as Unix milliseconds.</summary>
    public long? AcknowledgementDueAtUnixMs { get; set; }
    public DateTimeOffset? OverdueAt { get; set; }
    /// <summary>On a recall: notified (it had the copy; a notice was sent) or withdrawn (it never will).</summary>
    public RecallAction? RecallAction { get; set; }
    public DateTimeOffset? RecallAcknowledgedAt { get; set; }
    /// <summary>Set when the outcome is refer: the id an IG officer approves or rejects.</summary>
    public Guid? ReferralId { get; set; }
    /// <summary>approved or rejected, once an IG officer has decided.</summary>
    public string? ReferralDecision { get; set; }
    public string? ReferralDecidedBy { get; set; }
    public string? ReferralJustification { get; set; }
    public DateTimeOffset? ReferralDecidedAt { get; set; }
    /// <summary>When the refer decision was recorded (ordering referrals oldest first), as Unix milliseconds.</summary>
    public long? ReferredAtUnixMs { get; set; }
}

public sealed class FeedItem
{
    /// <summary>The store's own order of every item of every feed; never shown to a partner.</summary>
    public long Cursor { get; set; }
    public required string Recipient { get; set; }
    /// <summary>
    /// The item's place in its recipient's own feed (1, 2, 3, …): the cursor the partner sees, in the ledger and in
    /// pushes. Assigned under the feed lock, so positions become visible in the order they are given.
    /// </summary>
    public long Position { get; set; }
    public Guid PackageId { get; set; }
    public required ItemKind Kind { get; set; }
    public required string Sealed { get; set; }
    public DateTimeOffset ReleasedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    /// <summary>When a feed read first returned it or a push of it was accepted: from then on the recipient has it.</summary>
    public DateTimeOffset? DeliveredAt { get; set; }
    /// <summary>Withdrawn by a recall before the recipient had it: never served again.</summary>
    public DateTimeOffset? WithdrawnAt { get; set; }
}

/// <summary>
/// A push of one feed item to a partner's webhook endpoint: its <c>webhook-id</c> (<see cref="Id"/>, the same on
/// every attempt), state and retry schedule. Times are Unix milliseconds so every store orders them alike.
/// </summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public required string Recipient { get; set; }
    public Guid PackageId { get; set; }
    public required ItemKind Kind { get; set; }
    public long FeedCursor { get; set; }
    public required PushState State { get; set; }
    public int Attempts { get; set; }
    /// <summary>How many times an operator sent it back after dead-lettering.</summary>
    public int Retries { get; set; }
    public long CreatedAtUnixMs { get; set; }
    public long NextAttemptAtUnixMs { get; set; }
    /// <summary>No attempt is made after this instant: the delivery is dead-lettered instead.</summary>
    public long HorizonEndsAtUnixMs { get; set; }
    /// <summary>While sending: when the claim lapses (a gateway that died mid-attempt leaves it to be retried).</summary>
    public long? LeaseUntilUnixMs { get; set; }
    public long? DeliveredAtUnixMs { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    /// <summary>The W3C traceparent of the release that queued it, so every attempt joins the package's trace.</summary>
    public string? TraceParent { get; set; }
}

/// <summary>A partner endpoint disabled by a 410 Gone answer, until an operator retries.</summary>
public sealed class WebhookEndpointState
{
    public required string Partner { get; set; }
    public long? DisabledAtUnixMs { get; set; }
    public string? DisabledReason { get; set; }
}

/// <summary>An event to publish after the transaction that produced it committed (the project's own small outbox).</summary>
public sealed class OutboxMessage
{
    public long Sequence { get; set; }
    public Guid MessageId { get; set; }
    public required string MessageType { get; set; }
    public required string Body { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    /// <summary>When the audit worker confirmed the event is in its ledger (<c>AuditRecorded</c>).</summary>
    public DateTimeOffset? ConfirmedAt { get; set; }
    public int Attempts { get; set; }
    /// <summary>The W3C traceparent of the work that produced the event, so its publish joins that trace.</summary>
    public string? TraceParent { get; set; }
}

using Microsoft.EntityFrameworkCore;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>The gateway's store: submissions, per-recipient state, feeds and the outbox.</summary>
public sealed class GatewayDb(DbContextOptions<GatewayDb> options) : DbContext(options)
{
    public DbSet<Submission> Submissions => Set<Submission>();
    public DbSet<RecipientState> Recipients => Set<RecipientState>();
    public DbSet<FeedItem> Feed => Set<FeedItem>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Submission>(e =>
        {
            e.HasKey(s => s.Id);
            e.HasIndex(s => new { s.Originator, s.Reference }).IsUnique();
            e.HasMany(s => s.Recipients).WithOne().HasForeignKey(r => r.PackageId);
        });
        modelBuilder.Entity<RecipientState>(e =>
        {
            e.HasKey(r => new { r.PackageId, r.Partner });
            e.HasIndex(r => r.ReferralId).IsUnique();
        });
        modelBuilder.Entity<FeedItem>(e =>
        {
            e.HasKey(f => f.Cursor);
            e.Property(f => f.Cursor).ValueGeneratedOnAdd();
            e.HasIndex(f => new { f.Recipient, f.Cursor });
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
    }
}

public static class SubmissionStatus
{
    public const string Submitted = "submitted";
    public const string Decided = "decided";
    public const string DecisionRejected = "decision-rejected";
}

public static class DeliveryState
{
    public const string Pending = "pending";
    public const string AwaitingReferral = "awaiting-referral";
    public const string Withheld = "withheld";
    /// <summary>Permitted, but not released while the audit ledger lags (fail closed); released once it catches up.</summary>
    public const string Held = "held";
    public const string Released = "released";
    public const string Acknowledged = "acknowledged";
    public const string Failed = "failed";
}

public sealed class Submission
{
    public Guid Id { get; set; }
    public required string Reference { get; set; }
    public required string Originator { get; set; }
    public required string ContentHash { get; set; }
    public required string SubmittedBy { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    /// <summary>The package as submitted (canonical JSON): the source of every recipient's copy.</summary>
    public required string PackageJson { get; set; }
    public required string Status { get; set; }
    public bool Published { get; set; }
    public string? PolicyVersion { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    /// <summary>The signed decision as received: the evidence for every release of this package.</summary>
    public string? DecisionJws { get; set; }
    public string? RejectionReason { get; set; }
    public List<RecipientState> Recipients { get; set; } = [];
}

public sealed class RecipientState
{
    public Guid PackageId { get; set; }
    public required string Partner { get; set; }
    public int Position { get; set; }
    public string? Outcome { get; set; }
    public string? Agreement { get; set; }
    public string? ReasonsJson { get; set; }
    public string? ObligationsJson { get; set; }
    public required string DeliveryState { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? ReleasedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
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
    public long Cursor { get; set; }
    public required string Recipient { get; set; }
    public Guid PackageId { get; set; }
    public required string Kind { get; set; }
    public required string Sealed { get; set; }
    public DateTimeOffset ReleasedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
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
}

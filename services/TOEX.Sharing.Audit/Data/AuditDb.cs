using Microsoft.EntityFrameworkCore;

namespace TOEX.Sharing.Audit.Data;

/// <summary>The audit worker's own store: the ledger, its signed tree heads, subjects' blind indexes, and referrals awaiting an IG officer.</summary>
public sealed class AuditDb(DbContextOptions<AuditDb> options) : DbContext(options)
{
    /// <summary>
    /// The packages an organisation originated, which every non-custodian read of the ledger is scoped by
    /// (<see cref="Apis.LedgerScope"/>): one small index row per package. Without it each such read scanned the whole ledger.
    /// </summary>
    public const string SubmissionsByOriginator = "IX_Entries_Originator_Submissions";

    private const string SubmissionsFilter = "\"Type\" = 'submission'";

    /// <summary>Adds <see cref="SubmissionsByOriginator"/> to a store created before it (SQLite and PostgreSQL alike).</summary>
    public const string AddSubmissionsByOriginator =
        $"CREATE INDEX IF NOT EXISTS \"{SubmissionsByOriginator}\" ON \"Entries\" (\"Originator\") WHERE {SubmissionsFilter}";

    public DbSet<LedgerEntry> Entries => Set<LedgerEntry>();

    public DbSet<StoredTreeHead> TreeHeads => Set<StoredTreeHead>();

    public DbSet<Referrals.Referral> Referrals => Set<Referrals.Referral>();

    public DbSet<SubjectIndex> SubjectIndexes => Set<SubjectIndex>();

    public DbSet<DeliveredCopy> DeliveredCopies => Set<DeliveredCopy>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<LedgerEntry>(e =>
        {
            e.HasKey(x => x.Index);
            e.Property(x => x.Index).ValueGeneratedNever();
            e.HasIndex(x => x.EventKey).IsUnique();
            e.HasIndex(x => x.PackageId);
            e.HasIndex(x => x.AtUnixMs);
            e.HasIndex(x => x.Reference);
            e.HasIndex(x => x.Originator).HasDatabaseName(SubmissionsByOriginator).HasFilter(SubmissionsFilter);
        });
        modelBuilder.Entity<StoredTreeHead>(e =>
        {
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.TreeSize);
        });
        modelBuilder.Entity<SubjectIndex>(e =>
        {
            e.HasKey(x => new { x.BlindIndex, x.PackageId });
            e.HasIndex(x => x.PackageId);
        });
        modelBuilder.Entity<DeliveredCopy>(e =>
        {
            e.HasKey(x => new { x.PackageId, x.Partner });
            e.HasIndex(x => x.Partner);
        });
        modelBuilder.Entity<Referrals.Referral>(e =>
        {
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.PackageId);
        });
    }
}

/// <summary>
/// A subject's keyed blind index (never a name, date of birth or identifier) and a package about that subject:
/// a query copy of the indexes in the package's submission entry, which the ledger's hashes protect.
/// </summary>
public sealed class SubjectIndex
{
    public required string BlindIndex { get; set; }
    public Guid PackageId { get; set; }
}

/// <summary>A tree head signed by the periodic signer: kept so an export can prove the ledger only grew since.</summary>
public sealed class StoredTreeHead
{
    public long Id { get; set; }
    public long TreeSize { get; set; }
    /// <summary>Base64.</summary>
    public required string RootHash { get; set; }
    public long TimestampUnixMs { get; set; }
    public required string KeyId { get; set; }
    /// <summary>Base64, IEEE P1363 (r || s).</summary>
    public required string Signature { get; set; }
}

/// <summary>
/// One ledger entry. <see cref="Canonical"/> is the exact byte string that was hashed; the other columns
/// are copies of its fields for querying, never the source of truth.
/// </summary>
public sealed class LedgerEntry
{
    public long Index { get; set; }
    /// <summary>The source message id (and recipient where one message yields several entries): appended once.</summary>
    public required string EventKey { get; set; }
    public required string Type { get; set; }
    public long AtUnixMs { get; set; }
    public required string Actor { get; set; }
    public required string Justification { get; set; }
    public required string RecipientsJson { get; set; }
    public Guid? PackageId { get; set; }
    /// <summary>The originator's reference of the package (<see cref="Ledger.EntryReferences"/>): from its submission entry.</summary>
    public string? Reference { get; set; }
    public string? Originator { get; set; }
    public string? Partner { get; set; }
    public string? Agreement { get; set; }
    public string? Outcome { get; set; }
    public required string Canonical { get; set; }
    public required string LeafHash { get; set; }
    public required string ChainHash { get; set; }
    /// <summary>The recorded event's content digest (<see cref="Ledger.LedgerRecord.EventDigest"/>); null for entries made before it was kept.</summary>
    public string? EventDigest { get; set; }
}

/// <summary>
/// A copy of a package its recipient received (its endpoint accepted the push, or its feed returned it, or it
/// acknowledged it): a query copy of the ledger's delivery entries. A non-custodian recipient reads, of a package it
/// did not originate, only the entries of its own copy, and only of a copy it received: a copy withdrawn by a recall
/// before it was delivered, like a denied or still referred one, gives the partner nothing to read.
/// </summary>
public sealed class DeliveredCopy
{
    public Guid PackageId { get; set; }
    public required string Partner { get; set; }
    public long DeliveredAtUnixMs { get; set; }

    /// <summary>Adds the copy to <paramref name="db"/> unless it is there already (in the store or added in this transaction).</summary>
    public static async Task RecordAsync(AuditDb db, Guid packageId, string partner, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (await db.DeliveredCopies.FindAsync([packageId, partner], cancellationToken) is null)
        {
            db.DeliveredCopies.Add(new DeliveredCopy { PackageId = packageId, Partner = partner, DeliveredAtUnixMs = at.ToUnixTimeMilliseconds() });
        }
    }
}

using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Audit.Data;

namespace TOEX.Sharing.Audit.Ledger;

/// <summary>
/// The originator's reference of a package (e.g. <c>ROCUWM-2026-000123</c>: what an officer knows a package by) on every
/// ledger entry about it, as the query column <see cref="LedgerEntry.Reference"/>. Like the other columns it is a copy,
/// never the source of truth: the reference is in the hashed canonical record of the package's submission entry (and of
/// its releases and recall), from which an entry that does not carry it takes it when it is appended. An entry appended
/// before its package's submission entry (events arrive on separate queues) gets it when the submission is appended.
/// </summary>
public static class EntryReferences
{
    public const string DetailKey = "reference";

    /// <summary>The reference for each of <paramref name="drafts"/>: stated in a draft of the same package, else its submission entry's.</summary>
    public static async Task<Func<LedgerRecord, string?>> ResolveAsync(AuditDb db, IReadOnlyList<LedgerRecord> drafts, CancellationToken cancellationToken)
    {
        var known = new Dictionary<Guid, string>();
        foreach (var draft in drafts)
        {
            if (draft.PackageId is { } id && Stated(draft) is { } reference)
            {
                known.TryAdd(id, reference);
            }
        }
        // Non-nullable ids, matched against a non-null column: with nullable ones EF adds "or both are null" to the
        // condition, which keeps PostgreSQL off the PackageId index (a full scan of the ledger per group commit, measured).
        var missing = drafts.Where(d => d.PackageId is { } id && !known.ContainsKey(id)).Select(d => d.PackageId!.Value).Distinct().ToList();
        if (missing.Count > 0)
        {
            var stored = await db.Entries.AsNoTracking()
                .Where(e => e.Type == "submission" && e.Reference != null && e.PackageId != null && missing.Contains(e.PackageId.Value))
                .Select(e => new { e.PackageId, e.Reference }).ToListAsync(cancellationToken);
            foreach (var entry in stored)
            {
                known.TryAdd(entry.PackageId!.Value, entry.Reference!);
            }
        }
        return draft => draft.PackageId is { } id && known.TryGetValue(id, out var reference) ? reference : null;
    }

    /// <summary>Gives the entries already in the ledger about the packages submitted in <paramref name="appended"/> their reference.</summary>
    public static async Task BackfillAsync(AuditDb db, IEnumerable<LedgerRecord> appended, CancellationToken cancellationToken)
    {
        foreach (var submission in appended.Where(d => d.Type == "submission" && d.PackageId is not null))
        {
            if (Stated(submission) is { } reference)
            {
                await db.Entries.Where(e => e.PackageId == submission.PackageId && e.Reference == null)
                    .ExecuteUpdateAsync(set => set.SetProperty(e => e.Reference, reference), cancellationToken);
            }
        }
    }

    /// <summary>
    /// A store made before entries carried the reference (EnsureCreated leaves it as it was): adds the column and its
    /// index, and fills it from the canonical records of the submission entries.
    /// </summary>
    public static async Task AddColumnAsync(AuditDb db, CancellationToken cancellationToken)
    {
        var sqlite = db.Database.IsSqlite();
        var present = sqlite
            ? (await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Entries')""").ToListAsync(cancellationToken)).Contains("Reference")
            : await db.Database.SqlQueryRaw<int>("""
                SELECT count(*)::int AS "Value" FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'Entries' AND column_name = 'Reference'
                """).SingleAsync(cancellationToken) > 0;
        if (present)
        {
            return;
        }
        await db.Database.ExecuteSqlRawAsync(sqlite ? AddToSqlite : AddToPostgres, cancellationToken);
    }

    private const string AddToSqlite = """
        ALTER TABLE "Entries" ADD COLUMN "Reference" TEXT NULL;
        CREATE INDEX IF NOT EXISTS "IX_Entries_Reference" ON "Entries" ("Reference");
        UPDATE "Entries" SET "Reference" = json_extract("Canonical", '$.detail.reference') WHERE "Type" = 'submission';
        """ + FromSubmissions;

    private const string AddToPostgres = """
        ALTER TABLE "Entries" ADD COLUMN "Reference" text NULL;
        CREATE INDEX IF NOT EXISTS "IX_Entries_Reference" ON "Entries" ("Reference");
        UPDATE "Entries" SET "Reference" = ("Canonical"::jsonb -> 'detail' ->> 'reference') WHERE "Type" = 'submission';
        """ + FromSubmissions;

    private const string FromSubmissions = """

        UPDATE "Entries" SET "Reference" = (SELECT s."Reference" FROM "Entries" s
            WHERE s."Type" = 'submission' AND s."PackageId" = "Entries"."PackageId" LIMIT 1)
        WHERE "Reference" IS NULL AND "PackageId" IS NOT NULL;
        """;

    private static string? Stated(LedgerRecord draft) =>
        draft.Detail is { } detail && detail.TryGetValue(DetailKey, out var value) && value is string { Length: > 0 } reference ? reference : null;
}

using Microsoft.EntityFrameworkCore;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>
/// A store made before the schema evolved by migrations (no migrations history): brought, once, to the schema of the
/// first migration by the patches the gateway used to apply on every start, then given that migration's history row
/// (<see cref="GatewayStore.MigrateAsync"/>). Never run on a store that has its history.
/// </summary>
internal static class LegacyStore
{
    public static async Task UpgradeToBaselineAsync(GatewayDb db)
    {
        if (db.Database.IsSqlite())
        {
            // A store made before the audit confirmed events (EnsureCreated leaves it as it was): add the column,
            // taking the events it had already sent as recorded (the reconciliation check tells if one was not).
            var columns = await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Outbox')""").ToListAsync();
            if (!columns.Contains("ConfirmedAt"))
            {
                await db.Database.ExecuteSqlRawAsync("""
                    ALTER TABLE "Outbox" ADD COLUMN "ConfirmedAt" TEXT NULL;
                    UPDATE "Outbox" SET "ConfirmedAt" = "SentAt";
                    CREATE INDEX IF NOT EXISTS "IX_Outbox_ConfirmedAt_Sequence" ON "Outbox" ("ConfirmedAt", "Sequence");
                    """);
            }
        }
        try
        {
            // A store made before push delivery lacks its table and columns: say so instead of failing later.
            _ = await db.Webhooks.AnyAsync() || await db.Feed.AnyAsync(f => f.WithdrawnAt != null)
                || await db.Submissions.AnyAsync(s => s.Version < 0);
        }
        catch (System.Data.Common.DbException e)
        {
            throw new InvalidOperationException("The gateway's store predates push delivery and recall (no Webhooks table, "
                + "Feed.WithdrawnAt or Submissions.Version column). Move the old store aside (a local run: delete .local/data/gateway.db).", e);
        }
        await AddTracingAsync(db);
    }

    /// <summary>A store made before submissions kept their submitter as a person (separation of duties): adds the column.</summary>
    private static async Task AddSubmitterPersonAsync(GatewayDb db)
    {
        if (db.Database.IsSqlite())
        {
            var columns = await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Submissions')""").ToListAsync();
            if (!columns.Contains("SubmittedByPerson"))
            {
                await db.Database.ExecuteSqlRawAsync("""ALTER TABLE "Submissions" ADD COLUMN "SubmittedByPerson" TEXT NULL;""");
            }
            return;
        }
        await db.Database.ExecuteSqlRawAsync("""ALTER TABLE "Submissions" ADD COLUMN IF NOT EXISTS "SubmittedByPerson" text NULL;""");
    }

    /// <summary>
    /// A store made before feed cursors were per recipient: each item gets its place in its recipient's feed, in the
    /// order the items were released. A partner's cursor from before is a store-wide number, larger than its own
    /// feed's end, which the feed refuses (400 naming <c>after</c>): the partner starts again from the beginning.
    /// </summary>
    private static async Task AddFeedPositionsAsync(GatewayDb db)
    {
        if (db.Database.IsSqlite())
        {
            var feed = await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Feed')""").ToListAsync();
            if (feed.Contains("Position"))
            {
                return;
            }
            await db.Database.ExecuteSqlRawAsync("""
                ALTER TABLE "Feed" ADD COLUMN "Position" INTEGER NOT NULL DEFAULT 0;
                UPDATE "Feed" SET "Position" = (SELECT COUNT(*) FROM "Feed" AS f WHERE f."Recipient" = "Feed"."Recipient" AND f."Cursor" <= "Feed"."Cursor");
                CREATE UNIQUE INDEX IF NOT EXISTS "IX_Feed_Recipient_Position" ON "Feed" ("Recipient", "Position");
                """);
            return;
        }
        await db.Database.ExecuteSqlRawAsync("""
            ALTER TABLE "Feed" ADD COLUMN IF NOT EXISTS "Position" bigint NOT NULL DEFAULT 0;
            UPDATE "Feed" AS f SET "Position" = p.position
                FROM (SELECT "Cursor", ROW_NUMBER() OVER (PARTITION BY "Recipient" ORDER BY "Cursor") AS position FROM "Feed") AS p
                WHERE f."Cursor" = p."Cursor" AND f."Position" = 0;
            CREATE UNIQUE INDEX IF NOT EXISTS "IX_Feed_Recipient_Position" ON "Feed" ("Recipient", "Position");
            """);
    }

    /// <summary>
    /// A store made before events and pushes kept their trace, or before the indexes that find held copies and due
    /// acknowledgements (EnsureCreated leaves it as it was): adds the columns and the indexes.
    /// </summary>
    private static async Task AddTracingAsync(GatewayDb db)
    {
        if (db.Database.IsSqlite())
        {
            var outbox = await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Outbox')""").ToListAsync();
            if (!outbox.Contains("TraceParent"))
            {
                await db.Database.ExecuteSqlRawAsync("""ALTER TABLE "Outbox" ADD COLUMN "TraceParent" TEXT NULL;""");
            }
            var webhooks = await db.Database.SqlQueryRaw<string>("""SELECT name AS "Value" FROM pragma_table_info('Webhooks')""").ToListAsync();
            if (!webhooks.Contains("TraceParent"))
            {
                await db.Database.ExecuteSqlRawAsync("""ALTER TABLE "Webhooks" ADD COLUMN "TraceParent" TEXT NULL;""");
            }
        }
        else
        {
            await db.Database.ExecuteSqlRawAsync("""
                ALTER TABLE "Outbox" ADD COLUMN IF NOT EXISTS "TraceParent" text NULL;
                ALTER TABLE "Webhooks" ADD COLUMN IF NOT EXISTS "TraceParent" text NULL;
                """);
        }
        await AddFeedPositionsAsync(db);
        await AddSubmitterPersonAsync(db);
        await db.Database.ExecuteSqlRawAsync("""
            CREATE INDEX IF NOT EXISTS "IX_Recipients_DeliveryState" ON "Recipients" ("DeliveryState");
            CREATE INDEX IF NOT EXISTS "IX_Recipients_AcknowledgementDueAtUnixMs" ON "Recipients" ("AcknowledgementDueAtUnixMs");
            """);
    }
}

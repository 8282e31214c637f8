using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// The store's schema comes from its migrations (a set per provider); a store made by the code before migrations
/// (EnsureCreated, no history table) is given the first migration's history row and keeps its rows.
/// </summary>
public abstract class StoreMigrationTests(StoreKind kind) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("toex-migrations-").FullName;
    private TestStore? _store;

    private TestStore Store => _store ??= TestStore.Create(kind, _root, "gateway");

    protected DbContextOptions<GatewayDb> Options(bool migrations)
    {
        var builder = new DbContextOptionsBuilder<GatewayDb>();
        builder.UseStore(Store.Database, Store.ConnectionString + (kind == StoreKind.Sqlite ? ";Pooling=False" : ""), "unused");
        if (migrations)
        {
            builder.UseGatewayMigrations();
        }
        return builder.Options;
    }

    [Fact]
    public async Task A_new_store_gets_every_migration_and_the_same_schema_the_model_creates()
    {
        await using (var db = new GatewayDb(Options(migrations: true)))
        {
            await GatewayStore.MigrateAsync(db, CancellationToken.None);
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            Assert.NotEmpty(db.Database.GetMigrations());
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.False(db.Database.HasPendingModelChanges(), "the model has changes no migration makes: add one (README: migrations)");
        }
        var migrated = await SchemaAsync();

        // The same model made by the code before migrations (EnsureCreated), in a store of its own.
        _store!.Dispose();
        _store = TestStore.Create(kind, _root, "created");
        await using (var created = new GatewayDb(Options(migrations: false)))
        {
            await Stores.EnsureCreatedAsync(created, CancellationToken.None);
        }
        Assert.Equal(migrated, await SchemaAsync());
    }

    [Fact]
    public async Task A_store_made_before_migrations_is_baselined_and_keeps_its_rows()
    {
        var id = Guid.NewGuid();
        await using (var old = new GatewayDb(Options(migrations: false)))
        {
            // The code before migrations: EnsureCreated, then rows written as they were (states as text).
            await Stores.EnsureCreatedAsync(old, CancellationToken.None);
            old.Submissions.Add(new Submission
            {
                Id = id, Reference = "ref-1", Originator = "wmp", ContentHash = "h", SubmittedBy = "s", PackageJson = "sealed",
                Status = SubmissionStatus.Decided, Recipients = [new RecipientState { Partner = "bcc-childrens", DeliveryState = DeliveryState.Held }],
            });
            await old.SaveChangesAsync();
        }

        await using (var db = new GatewayDb(Options(migrations: true)))
        {
            await GatewayStore.MigrateAsync(db, CancellationToken.None);
            await GatewayStore.MigrateAsync(db, CancellationToken.None);
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            var state = await db.Recipients.SingleAsync(r => r.PackageId == id);
            Assert.Equal(DeliveryState.Held, state.DeliveryState);
        }
    }

    /// <summary>The store's tables, columns and indexes, as the provider describes them (migration history aside).</summary>
    protected async Task<List<string>> SchemaAsync()
    {
        await using var db = new GatewayDb(Options(migrations: false));
        var rows = kind == StoreKind.Sqlite
            ? await db.Database.SqlQueryRaw<string>("""
                SELECT m.name || '.' || p.name || ' ' || p.type || ' ' || p."notnull" || ' ' || p.pk AS "Value"
                FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE '\_\_EF%' ESCAPE '\'
                UNION ALL SELECT 'index ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master
                WHERE type = 'index' AND tbl_name NOT LIKE '\_\_EF%' ESCAPE '\'
                """).ToListAsync()
            : await db.Database.SqlQueryRaw<string>("""
                SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS "Value"
                FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT LIKE '\_\_EF%'
                UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename NOT LIKE '\_\_EF%'
                """).ToListAsync();
        return [.. rows.Order(StringComparer.Ordinal)];
    }

    public void Dispose()
    {
        _store?.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
        GC.SuppressFinalize(this);
    }
}

public sealed class StoreMigrationTestsOnSqlite() : StoreMigrationTests(StoreKind.Sqlite)
{
    [Fact]
    public async Task An_older_store_lacking_later_columns_and_indexes_is_brought_to_the_baseline_first()
    {
        await using (var old = new GatewayDb(Options(migrations: false)))
        {
            await Stores.EnsureCreatedAsync(old, CancellationToken.None);
            await old.Database.ExecuteSqlRawAsync("""
                DROP INDEX "IX_Recipients_DeliveryState";
                ALTER TABLE "Outbox" DROP COLUMN "TraceParent";
                ALTER TABLE "Submissions" DROP COLUMN "SubmittedByPerson";
                """);
        }
        await using (var db = new GatewayDb(Options(migrations: true)))
        {
            await GatewayStore.MigrateAsync(db, CancellationToken.None);
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            Assert.Equal(0, await db.Outbox.CountAsync(o => o.TraceParent != null));
            Assert.Equal(0, await db.Submissions.CountAsync(s => s.SubmittedByPerson != null));
        }
        var schema = await SchemaAsync();
        Assert.Contains(schema, s => s.Contains("IX_Recipients_DeliveryState", StringComparison.Ordinal));
    }
}

public sealed class StoreMigrationTestsOnPostgreSql() : StoreMigrationTests(StoreKind.PostgreSql);

using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Internal;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Data;

/// <summary>
/// The gateway's schema evolves by EF Core migrations, one set per provider (SQLite and PostgreSQL differ in column
/// types, so each set is generated against its own provider by <c>dotnet ef migrations add</c>, see README): the sets
/// live in this assembly under <c>Data/Migrations/Sqlite</c> and <c>Data/Migrations/PostgreSql</c>, and this picks the
/// one of the provider in use (EF Core would otherwise take every migration of the context in the assembly).
/// </summary>
#pragma warning disable EF1001 // MigrationsAssembly is EF Core's own public-but-internal extension point for this.
public sealed class StoreMigrations(
    ICurrentDbContext currentContext, IDbContextOptions options, IMigrationsIdGenerator idGenerator,
    IDiagnosticsLogger<DbLoggerCategory.Migrations> logger)
    : MigrationsAssembly(currentContext, options, idGenerator, logger)
{
    private readonly string _namespace = Namespace(currentContext.Context.Database.ProviderName);

    /// <summary>The namespace of a provider's migration set.</summary>
    public static string Namespace(string? provider) => typeof(StoreMigrations).Namespace + ".Migrations."
        + (provider == "Npgsql.EntityFrameworkCore.PostgreSQL" ? "PostgreSql" : "Sqlite");

    public override IReadOnlyDictionary<string, TypeInfo> Migrations =>
        base.Migrations.Where(m => m.Value.Namespace == _namespace).ToDictionary(m => m.Key, m => m.Value);

    public override ModelSnapshot? ModelSnapshot => Assembly.DefinedTypes
        .Where(t => t.Namespace == _namespace && typeof(ModelSnapshot).IsAssignableFrom(t) && !t.IsAbstract)
        .Select(t => (ModelSnapshot)Activator.CreateInstance(t.AsType())!).SingleOrDefault();
}
#pragma warning restore EF1001

/// <summary>
/// For <c>dotnet ef migrations add</c> alone: the store the tool generates a migration for, chosen by the environment
/// variable <c>TOEX_EF_PROVIDER</c> (<c>sqlite</c>, the default, or <c>postgresql</c>). It never connects.
/// </summary>
public sealed class DesignTimeGatewayDb : IDesignTimeDbContextFactory<GatewayDb>
{
    public GatewayDb CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<GatewayDb>();
        var provider = Environment.GetEnvironmentVariable("TOEX_EF_PROVIDER") ?? Stores.Sqlite;
        builder.UseStore(provider, provider == Stores.PostgreSql ? "Host=design-time-only" : "Data Source=:memory:", "design-time")
            .UseGatewayMigrations();
        return new GatewayDb(builder.Options);
    }
}

public static class GatewayStore
{
    /// <summary>The gateway's migrations: the set of the provider in use.</summary>
    public static DbContextOptionsBuilder UseGatewayMigrations(this DbContextOptionsBuilder options) =>
        options.ReplaceService<IMigrationsAssembly, StoreMigrations>();

    /// <summary>
    /// Brings the store to the current schema: a new store gets every migration; a store made before migrations (today's
    /// tables, no history table) is first brought to the first migration's schema and given its history row (the
    /// baseline), then the rest apply; a migrated store gets those it lacks. On PostgreSQL under a session lock, so
    /// gateways starting together baseline once; on SQLite with the write-ahead log on.
    /// </summary>
    public static async Task MigrateAsync(GatewayDb db, CancellationToken cancellationToken)
    {
        var postgres = db.Database.IsNpgsql();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (postgres)
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({SchemaLock})", cancellationToken);
            }
            var history = db.GetService<IHistoryRepository>();
            // Not history.ExistsAsync(): Npgsql's always answers true (it creates the table IF NOT EXISTS instead).
            if (!await HasTableAsync(db, HistoryRepository.DefaultTableName, cancellationToken) && await HasTableAsync(db, "Submissions", cancellationToken))
            {
                await LegacyStore.UpgradeToBaselineAsync(db);
                await history.CreateIfNotExistsAsync(cancellationToken);
                var initial = db.Database.GetMigrations().First();
                await db.Database.ExecuteSqlRawAsync(history.GetInsertScript(new HistoryRow(initial, ProductInfo.GetVersion())), cancellationToken);
            }
            await db.Database.MigrateAsync(cancellationToken);
            if (postgres)
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({SchemaLock})", cancellationToken);
            }
            else
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Whether the store has the table, found as an unqualified name in a statement would be (the search path).</summary>
    private static async Task<bool> HasTableAsync(GatewayDb db, string table, CancellationToken cancellationToken) => db.Database.IsNpgsql()
        ? await db.Database.SqlQuery<bool>($"SELECT to_regclass({'"' + table + '"'}) IS NOT NULL AS \"Value\"").SingleAsync(cancellationToken)
        : await db.Database.SqlQuery<int>($"SELECT COUNT(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = {table}")
            .SingleAsync(cancellationToken) > 0;

    /// <summary>The PostgreSQL advisory lock key of the gateway's schema changes.</summary>
    private const long SchemaLock = 0x544F4558_0000_0002;
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace TOEX.Sharing.ServiceDefaults;

/// <summary>
/// A service's store: SQLite (embedded, the default) or PostgreSQL (production), the same EF Core model on
/// either, chosen by <c>&lt;Service&gt;:Database</c> with <c>&lt;Service&gt;:ConnectionString</c>.
/// </summary>
public static class Stores
{
    public const string Sqlite = "sqlite";
    public const string PostgreSql = "postgresql";

    /// <summary>True for a value <c>&lt;Service&gt;:Database</c> may take (null means SQLite).</summary>
    public static bool IsKnown(string? database) => database is null or Sqlite or PostgreSql;

    /// <summary>PostgreSQL needs a connection string; SQLite defaults to <c>.local/data/&lt;localName&gt;.db</c>.</summary>
    public static bool HasConnection(string? database, string? connectionString) =>
        database != PostgreSql || !string.IsNullOrWhiteSpace(connectionString);

    public static DbContextOptionsBuilder UseStore(
        this DbContextOptionsBuilder options, string? database, string? connectionString, string localName) =>
        database == PostgreSql
            ? options.UseNpgsql(WithAutoPrepare(connectionString))
            : options.UseSqlite(connectionString ?? $"Data Source={LocalPaths.Database(localName)}")
                .AddInterceptors(SqliteBusyTimeout.Instance);

    /// <summary>The statements a connection keeps prepared, unless the connection string says otherwise.</summary>
    public const int AutoPrepared = 64;

    /// <summary>
    /// Npgsql prepares nothing by default, so PostgreSQL parses and plans every statement again (measured: planning was a
    /// fifth of the server's CPU under the benchmark). With automatic preparation, a statement run several times on a
    /// connection is prepared there, and stays prepared across the pool's resets. An operator's own
    /// <c>Max Auto Prepare</c> (0 turns it off) is kept.
    /// </summary>
    public static string? WithAutoPrepare(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return connectionString;
        }
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare"))
        {
            return connectionString;
        }
        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = AutoPrepared }.ConnectionString;
    }

    /// <summary>
    /// Creates the schema if the store is new: on PostgreSQL under a session lock, so instances starting together
    /// do not both create it; on SQLite with the write-ahead log on.
    /// </summary>
    public static async Task EnsureCreatedAsync(DbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({SchemaLock})", cancellationToken);
                await db.Database.EnsureCreatedAsync(cancellationToken);
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({SchemaLock})", cancellationToken);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
            return;
        }
        await db.Database.EnsureCreatedAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    /// <summary>
    /// Serialises writers of <paramref name="resource"/> across every process using the store, until the current
    /// transaction ends. PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing more to do, since an EF
    /// transaction there begins IMMEDIATE and so already holds the database's single write lock.
    /// </summary>
    public static async Task LockForTransactionAsync(this DatabaseFacade database, StoreLock resource, CancellationToken cancellationToken)
    {
        if (database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A store lock is taken inside a transaction.");
        }
        if (database.IsNpgsql())
        {
            await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({(long)resource})", cancellationToken);
        }
    }

    /// <summary>
    /// Reads several tables as of one instant, for a view that must agree with itself (a recipient's state and its
    /// push change together): PostgreSQL in a REPEATABLE READ transaction; SQLite in a deferred transaction, whose
    /// snapshot (write-ahead log) starts at its first read and takes no write lock. Dispose it when the reads are done.
    /// </summary>
    public static async Task<IAsyncDisposable> ReadSnapshotAsync(this DatabaseFacade database, CancellationToken cancellationToken)
    {
        if (database.IsNpgsql())
        {
            return await database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        }
        await database.OpenConnectionAsync(cancellationToken);
        var transaction = ((Microsoft.Data.Sqlite.SqliteConnection)database.GetDbConnection()).BeginTransaction(deferred: true);
        await database.UseTransactionAsync(transaction, cancellationToken);
        return new SqliteSnapshot(database, transaction);
    }

    private sealed class SqliteSnapshot(DatabaseFacade database, System.Data.Common.DbTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await database.UseTransactionAsync(null);
            await transaction.DisposeAsync();
            await database.CloseConnectionAsync();
        }
    }

    private const long SchemaLock = 0x544F4558_0000_0001;
}

/// <summary>
/// Every SQLite connection waits for the database's write lock inside SQLite (<c>PRAGMA busy_timeout</c>, which
/// polls every few milliseconds), instead of failing busy at once into Microsoft.Data.Sqlite's own retry, which
/// sleeps its thread 150 ms between tries: with writers from several consumers at once, those sleeps were most of
/// the gateway's latency and starved its thread pool (found profiling the benchmark).
/// </summary>
internal sealed class SqliteBusyTimeout : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    /// <summary>As long as a command may take (Microsoft.Data.Sqlite's default command timeout, 30 s).</summary>
    private const string Pragma = "PRAGMA busy_timeout = 30000;";

    public override void ConnectionOpened(System.Data.Common.DbConnection connection,
        Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection,
        Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>What a store lock protects (its PostgreSQL advisory lock key).</summary>
public enum StoreLock : long
{
    /// <summary>The audit ledger's append order.</summary>
    Ledger = 0x544F4558_0000_0010,

    /// <summary>The gateway's feed cursors: committed in the order they are assigned.</summary>
    Feed = 0x544F4558_0000_0020,
}

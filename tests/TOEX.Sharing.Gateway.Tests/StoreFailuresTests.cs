using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>
/// Which store failures are "try again shortly" (503 with Retry-After, a consumer's message waited for) and which are not
/// (500, the error queue): the providers' own classification, found through EF Core's wrapping. The database restart
/// fault test (TOEX.Sharing.Faults.Tests.DatabaseRestartTests) proves it end to end on a real PostgreSQL cluster.
/// </summary>
public sealed class StoreFailuresTests
{
    public static TheoryData<string, Exception> Transient => new()
    {
        { "57P01 admin shutdown (a fast stop)", Postgres(PostgresErrorCodes.AdminShutdown) },
        { "57P02 crash shutdown", Postgres(PostgresErrorCodes.CrashShutdown) },
        { "57P03 the database system is starting up", Postgres(PostgresErrorCodes.CannotConnectNow) },
        { "08006 connection failure", Postgres(PostgresErrorCodes.ConnectionFailure) },
        { "53300 too many connections", Postgres(PostgresErrorCodes.TooManyConnections) },
        { "connection refused", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)) },
        { "connection cut mid-command", new NpgsqlException("Exception while reading from stream", new IOException("EOF")) },
        { "wrapped by SaveChanges", new DbUpdateException("update", new NpgsqlException("x", new IOException("EOF"))) },
        { "wrapped by EF's execution strategy", new InvalidOperationException("likely transient", new NpgsqlException("x", new SocketException((int)SocketError.ConnectionRefused))) },
        { "SQLite busy", new SqliteException("database is locked", 5) },
    };

    public static TheoryData<string, Exception> NotTransient => new()
    {
        { "23505 unique violation (a concurrent duplicate)", Postgres(PostgresErrorCodes.UniqueViolation) },
        { "42P01 undefined table", Postgres(PostgresErrorCodes.UndefinedTable) },
        { "a unique violation wrapped by SaveChanges", new DbUpdateException("update", Postgres(PostgresErrorCodes.UniqueViolation)) },
        { "SQLite constraint", new SqliteException("UNIQUE constraint failed", 19) },
        { "not a store failure", new InvalidOperationException("Sequence contains no elements") },
    };

    [Theory]
    [MemberData(nameof(Transient))]
    public void A_store_that_is_restarting_or_unreachable_is_transient(string what, Exception exception) =>
        Assert.True(StoreFailures.IsTransient(exception), what);

    [Theory]
    [MemberData(nameof(NotTransient))]
    public void A_failure_the_same_request_would_raise_again_is_not(string what, Exception exception) =>
        Assert.False(StoreFailures.IsTransient(exception), what);

    private static PostgresException Postgres(string sqlState) => new("message", "FATAL", "FATAL", sqlState);
}

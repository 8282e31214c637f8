using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TOEX.Sharing.Gateway.Data;
using TOEX.Sharing.ServiceDefaults;

namespace TOEX.Sharing.Gateway.Tests;

/// <summary>The SQLite store's connections, as every service opens them.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("toex-sqlite-").FullName;

    [Fact]
    public async Task A_writer_waits_for_the_write_lock_inside_sqlite_and_gets_it_as_soon_as_it_is_free()
    {
        var connectionString = $"Data Source={Path.Combine(_root, "gateway.db")};Pooling=False";
        var builder = new DbContextOptionsBuilder<GatewayDb>();
        builder.UseStore(Stores.Sqlite, connectionString, "unused");
        var options = builder.Options;
        await using (var create = new GatewayDb(options))
        {
            await Stores.EnsureCreatedAsync(create, CancellationToken.None);
        }

        await using var db = new GatewayDb(options);
        await db.Database.OpenConnectionAsync();
        var timeout = await db.Database.SqlQueryRaw<long>("PRAGMA busy_timeout").ToListAsync();
        Assert.Equal([30000L], timeout);

        // Another connection holds the write lock for 400 ms: the writer waits for it and begins once it is free.
        await using var holder = new SqliteConnection(connectionString);
        await holder.OpenAsync();
        await using var held = (SqliteTransaction)await holder.BeginTransactionAsync();
        var release = Task.Run(async () =>
        {
            await Task.Delay(400);
            await held.CommitAsync();
        });
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            waited.Stop();
            await transaction.CommitAsync();
        }
        await release;
        Assert.InRange(waited.ElapsedMilliseconds, 350, 5_000);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }
}

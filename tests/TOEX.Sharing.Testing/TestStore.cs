using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace TOEX.Sharing.Testing;

/// <summary>The stores a service can run on; store-dependent suites run once on each.</summary>
public enum StoreKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// A service's store for one test: a SQLite file in the test's folder, or a database of its own on the
/// process-wide <see cref="PostgresServer"/>. Gives the service's settings and raw SQL access, as someone
/// with write access to the database would have.
/// </summary>
public sealed class TestStore : IDisposable
{
    private readonly PostgresServer? _server;

    private TestStore(StoreKind kind, string connectionString, PostgresServer? server)
    {
        Kind = kind;
        ConnectionString = connectionString;
        _server = server;
    }

    public StoreKind Kind { get; }

    /// <summary>The value of the service's <c>Database</c> setting.</summary>
    public string Database => Kind == StoreKind.PostgreSql ? "postgresql" : "sqlite";

    /// <summary>The value of the service's <c>ConnectionString</c> setting.</summary>
    public string ConnectionString { get; }

    /// <summary>A store named <paramref name="name"/>: <c>&lt;directory&gt;/&lt;name&gt;.db</c>, or a new PostgreSQL database.</summary>
    public static TestStore Create(StoreKind kind, string directory, string name)
    {
        if (kind == StoreKind.Sqlite)
        {
            return new TestStore(kind, $"Data Source={Path.Combine(directory, name + ".db")}", server: null);
        }
        // Factories build their stores in constructors: the one place tests wait synchronously.
        var server = PostgresServer.GetSharedAsync().GetAwaiter().GetResult();
        return new TestStore(kind, server.CreateDatabaseAsync(name).GetAwaiter().GetResult(), server);
    }

    /// <summary>A store named <paramref name="name"/>: a new database on <paramref name="server"/> (e.g. a private cluster a test restarts).</summary>
    public static async Task<TestStore> CreateAsync(PostgresServer server, string name) =>
        new(StoreKind.PostgreSql, await server.CreateDatabaseAsync(name), server);

    /// <summary>Runs SQL on the store directly (quote identifiers: <c>"Entries"."Index"</c>, valid on both).</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = Open();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The single number <paramref name="sql"/> selects (a count, a maximum).</summary>
    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = Open();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, CultureInfo.InvariantCulture);
    }

    /// <summary>Every row <paramref name="sql"/> selects, each value as text (null stays null).</summary>
    public async Task<List<string?[]>> RowsAsync(string sql)
    {
        await using var connection = Open();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            var row = new string?[reader.FieldCount];
            for (var column = 0; column < reader.FieldCount; column++)
            {
                row[column] = await reader.IsDBNullAsync(column) ? null : Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Every non-null value of every row of <paramref name="table"/>, as text.</summary>
    public async Task<List<string>> ReadAllTextAsync(string table)
    {
        await using var connection = Open();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM \"{table}\"";
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            for (var column = 0; column < reader.FieldCount; column++)
            {
                if (!await reader.IsDBNullAsync(column))
                {
                    values.Add(Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture) ?? "");
                }
            }
        }
        return values;
    }

    private DbConnection Open() => Kind == StoreKind.PostgreSql
        ? new NpgsqlConnection(ConnectionString)
        : new SqliteConnection(ConnectionString + ";Pooling=False");

    public void Dispose()
    {
        if (_server is not null)
        {
            _server.DropDatabaseAsync(ConnectionString).GetAwaiter().GetResult();
        }
        else
        {
            SqliteConnection.ClearAllPools();
        }
    }
}

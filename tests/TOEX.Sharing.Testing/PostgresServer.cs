using System.Globalization;
using Npgsql;

namespace TOEX.Sharing.Testing;

/// <summary>
/// A PostgreSQL server for tests. With <c>TOEX_POSTGRES_URL</c> set (an Npgsql connection string, or a
/// <c>postgresql://user:pass@host:port/db</c> URL, for a user allowed to create databases) it is that server;
/// otherwise a container where a Docker engine is reachable (<see cref="TestInfrastructure"/>), or a private cluster of the installed <c>postgresql</c> package, started by
/// <c>deploy/postgres/private-cluster.sh</c> in a temporary folder on a free loopback port, and stopped when
/// the test process exits. Without <c>postgresql</c> it fails saying how to install it: never skipped.
/// Each test store is a database of its own (<see cref="CreateDatabaseAsync"/>).
/// </summary>
public sealed class PostgresServer
{
    public const string UrlVariable = "TOEX_POSTGRES_URL";

    private const int PortInUseExitCode = 75;
    private const int NotInstalledExitCode = 69;
    private static readonly SemaphoreSlim SharedGate = new(1, 1);
    private static PostgresServer? shared;
    private static int databaseCount;

    private PostgresServer(string connectionString, string? directory, bool unsafeFast = false)
    {
        AdminConnectionString = connectionString;
        Directory = directory;
        _unsafeFast = unsafeFast;
    }

    private readonly bool _unsafeFast;

    /// <summary>A connection string to the server's maintenance database, for a user that may create databases.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The private cluster's folder, or null for an external server.</summary>
    public string? Directory { get; }

    /// <summary>The process-wide server, started on first use.</summary>
    public static async Task<PostgresServer> GetSharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedGate.WaitAsync(cancellationToken);
        try
        {
            if (shared is not null)
            {
                return shared;
            }
            if (Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url)
            {
                return shared = new PostgresServer(ToConnectionString(url), directory: null);
            }
            return shared = (await TestInfrastructure.ChoiceAsync()).Source == InfrastructureSource.Containers
                ? new PostgresServer(await Containers.StartPostgresAsync(cancellationToken), directory: null)
                : await StartPrivateClusterAsync(unsafeFast: true, "toex-test-pg", cancellationToken);
        }
        finally
        {
            SharedGate.Release();
        }
    }

    /// <summary>Creates an empty database named after <paramref name="prefix"/>; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref databaseCount)}_{Guid.NewGuid().ToString("N")[..8]}"
            .ToLowerInvariant().Replace('-', '_');
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing its connections.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A new private cluster of this process's own (not the shared one), stopped when the process exits: durable
    /// (fsync and synchronous commit on, as in production) unless <paramref name="unsafeFast"/>. For benchmarks,
    /// which measure what a durable commit costs.
    /// </summary>
    public static Task<PostgresServer> StartPrivateAsync(bool unsafeFast, CancellationToken cancellationToken = default) =>
        StartPrivateClusterAsync(unsafeFast, "toex-pg", cancellationToken);

    /// <summary>The private cluster's server process (the postmaster; its backends are its children), or null for an external server.</summary>
    public int? PostmasterProcessId =>
        Directory is not null && File.Exists(Path.Combine(Directory, "data", "postmaster.pid"))
            && int.TryParse(File.ReadLines(Path.Combine(Directory, "data", "postmaster.pid")).First().Trim(), CultureInfo.InvariantCulture, out var pid)
            ? pid : null;

    /// <summary>
    /// Stops this private cluster as an operator's restart would: <paramref name="immediate"/>, at once (every connection
    /// cut, no checkpoint: recovered from the WAL at the next start); otherwise fast (each session ended with 57P01
    /// admin shutdown, then a checkpoint). Its data folder and port stay, for <see cref="StartAgainAsync"/>.
    /// </summary>
    public async Task StopAsync(bool immediate, CancellationToken cancellationToken = default)
    {
        var result = await ProcessRunner.RunAsync("bash", [Script, "stop", "--dir", PrivateDirectory, .. immediate ? ["--immediate"] : Array.Empty<string>()],
            TimeSpan.FromSeconds(90), cancellationToken);
        if (result.ExitCode != 0 || PostmasterProcessId is not null)
        {
            throw new InvalidOperationException($"The private PostgreSQL cluster did not stop (exit code {result.ExitCode}).\n{result.StandardError.Trim()}");
        }
    }

    /// <summary>Starts this private cluster again on the same data folder and port, once it accepts connections.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        var port = new NpgsqlConnectionStringBuilder(AdminConnectionString).Port.ToString(CultureInfo.InvariantCulture);
        var result = await ProcessRunner.RunAsync("bash",
            [Script, "start", "--dir", PrivateDirectory, "--port", port, .. _unsafeFast ? ["--unsafe-fast"] : Array.Empty<string>()],
            TimeSpan.FromSeconds(120), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"The private PostgreSQL cluster did not start again (exit code {result.ExitCode}).\n{result.StandardError.Trim()}");
        }
    }

    private string PrivateDirectory => Directory ?? throw new InvalidOperationException("Only a private cluster of the tests' own is stopped and started.");

    private static string Script => Path.Combine(RepoPaths.Root, "deploy", "postgres", "private-cluster.sh");

    private static async Task<PostgresServer> StartPrivateClusterAsync(bool unsafeFast, string folderPrefix, CancellationToken cancellationToken)
    {
        var script = Script;
        for (var attempt = 1; ; attempt++)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"{folderPrefix}-{Environment.ProcessId}-{attempt}");
            var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
            var result = await ProcessRunner.RunAsync("bash",
                [script, "start", "--dir", directory, "--port", port, .. unsafeFast ? ["--unsafe-fast"] : Array.Empty<string>(),
                 "--owner-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--remove-dir"],
                TimeSpan.FromSeconds(120), cancellationToken);
            if (result.ExitCode == 0)
            {
                var server = new PostgresServer(result.StandardOutput.Trim().Split('\n')[^1].Trim(), directory, unsafeFast);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => ProcessRunner.RunAsync("bash",
                    [script, "stop", "--dir", directory, "--remove-dir"], TimeSpan.FromSeconds(60), CancellationToken.None)
                    .GetAwaiter().GetResult();
                return server;
            }
            if (result.ExitCode == NotInstalledExitCode)
            {
                throw new InvalidOperationException(
                    "PostgreSQL is needed by these tests and the postgresql package is not installed. On Debian: "
                    + $"sudo apt-get install postgresql (tests start private clusters; the system one is not used). Or set {UrlVariable}.\n"
                    + result.StandardError.Trim());
            }
            if (result.ExitCode != PortInUseExitCode || attempt == 3)
            {
                throw new InvalidOperationException(
                    $"The private PostgreSQL cluster did not start (exit code {result.ExitCode}).\n{result.StandardError.Trim()}");
            }
        }
    }

    private static string ToConnectionString(string url)
    {
        if (!url.StartsWith("postgres://", StringComparison.Ordinal) && !url.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return url;
        }
        var uri = new Uri(url);
        var credentials = uri.UserInfo.Split(':', 2);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Username = Uri.UnescapeDataString(credentials[0]),
            Password = credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : null,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } database ? Uri.UnescapeDataString(database) : "postgres",
        }.ConnectionString;
    }
}

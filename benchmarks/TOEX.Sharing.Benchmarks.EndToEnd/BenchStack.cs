using System.Net.Http.Headers;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using TOEX.Sharing.ServiceDefaults;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Benchmarks.EndToEnd;

/// <summary>
/// What the benchmark runs against: a private RabbitMQ node (management API on, for message counts), a virtual host of
/// this run's own, and the gateway, PolicyDecision and the audit worker as separate processes of this configuration's
/// build, each connecting as its own broker user, with keys, stores and a development issuer under a temporary folder.
/// The gateway's store and the audit ledger are SQLite files there, or (<c>--store postgresql</c>) two databases on a
/// private PostgreSQL cluster started for the run, durable as in production (fsync and synchronous commit on), whose
/// processes are measured like the broker's. The services run as in production except for the development issuer, the clock (the reference region's
/// agreements are in force at 2026-11-25) and the gateway's per-caller rate limit, raised for the benchmark's clients.
/// </summary>
internal sealed class BenchStack : IAsyncDisposable
{
    public const string StartsAt = "2026-11-25T12:00:00Z";

    /// <summary>Every partner with a registered key (nca RSA, the others EC P-256), as in the end-to-end tests.</summary>
    private static readonly string[] Partners =
        ["rocu-wm", "wmp", "staffs", "nca", "border-force-mids", "bcc-childrens", "bsol-nhs-safeguarding", "safe-haven"];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly List<ChildProcess> processes = [];

    private BenchStack(RabbitMqBroker broker, string root, string store)
    {
        Broker = broker;
        Root = root;
        Store = store;
    }

    public RabbitMqBroker Broker { get; }

    /// <summary>The services' <c>Database</c> setting.</summary>
    public string Store { get; }

    /// <summary>The private PostgreSQL cluster with <c>--store postgresql</c>.</summary>
    public PostgresServer? Postgres { get; private set; }

    private string gatewayConnection = null!;
    private string auditConnection = null!;
    public string Root { get; }
    public BrokerVhost Vhost { get; private set; } = null!;
    public Uri Gateway { get; private set; } = null!;
    public ChildProcess GatewayProcess { get; private set; } = null!;
    public ChildProcess PolicyDecisionProcess { get; private set; } = null!;
    public ChildProcess AuditProcess { get; private set; } = null!;

    /// <summary>When each copy reached its partner, pushed or read from its feed.</summary>
    public Arrivals Arrivals { get; } = new();

    /// <summary>The partners that take push delivery (the policy set's registry), served by <see cref="PushSink"/>.</summary>
    public IReadOnlySet<string> PushPartners { get; } = Policy.PolicySet.Load(RepoPaths.Policies).Partners.Values
        .Where(p => p.Delivery == "push").Select(p => p.Id).ToHashSet();

    private PushSink? pushSink;

    private string AuditDatabase => Path.Combine(Root, "audit.db");

    /// <summary>The broker: its Erlang VM and the port programs it starts.</summary>
    public MeasuredProcess BrokerProcess =>
        new("rabbitmq", Broker.NodeProcessId ?? throw new InvalidOperationException("The broker's process id is unknown."), Tree: true);
    private string DevIssuerDirectory => Path.Combine(Root, "dev-issuer");

    /// <summary>The broker, the services and this process, for CPU and memory.</summary>
    public IReadOnlyList<MeasuredProcess> Measured =>
    [
        new("gateway", GatewayProcess.Id),
        new("policy-decision", PolicyDecisionProcess.Id),
        new("audit", AuditProcess.Id),
        BrokerProcess,
        .. Postgres is null ? Array.Empty<MeasuredProcess>() :
            [new("postgresql", Postgres.PostmasterProcessId ?? throw new InvalidOperationException("The PostgreSQL server's process id is unknown."), Tree: true)],
        new("benchmark client", Environment.ProcessId),
    ];

    /// <summary>The measured processes that are the system under test (all but the benchmark client).</summary>
    public static bool IsServer(string name) => name != "benchmark client";

    public static async Task<BenchStack> StartBrokerAsync(string store)
    {
        var broker = await RabbitMqBroker.StartPrivateNodeWithManagementAsync();
        return new BenchStack(broker, Directory.CreateTempSubdirectory("toex-bench-").FullName, store);
    }

    public async Task StartServicesAsync()
    {
        if (Store == Stores.PostgreSql)
        {
            // Stopped when this process exits (its watcher), like the tests' clusters; durable, unlike theirs.
            Postgres = await PostgresServer.StartPrivateAsync(unsafeFast: false);
            gatewayConnection = await Postgres.CreateDatabaseAsync("bench_gateway");
            auditConnection = await Postgres.CreateDatabaseAsync("bench_audit");
        }
        else
        {
            gatewayConnection = $"Data Source={Path.Combine(Root, "gateway.db")}";
            auditConnection = $"Data Source={AuditDatabase}";
        }
        Vhost = await Broker.CreateVirtualHostAsync("bench");
        var partnerKeys = Path.Combine(Root, "partners");
        foreach (var partner in Partners)
        {
            KeyFiles.Generate(partnerKeys, partner == "nca" ? KeyKind.Rsa : KeyKind.EC, KeyUse.Encryption, partner);
        }
        // The push partners' endpoints, registered as local development endpoints beside their keys.
        pushSink = await PushSink.StartAsync(Arrivals);
        foreach (var partner in PushPartners)
        {
            await File.WriteAllTextAsync(Path.Combine(partnerKeys, partner + ".webhook.json"),
                $$"""{"endpoint": "{{new Uri(pushSink.Url, $"/hooks/{partner}")}}", "localDevelopment": true}""");
        }
        var decisionJwks = Path.Combine(Root, "policy-decision.jwks.json");
        var blindIndexKey = Path.Combine(Root, "keys", "blind-index.key");
        var common = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevIssuer__Directory"] = DevIssuerDirectory,
            ["Clock__StartsAt"] = StartsAt,
            // Information logs go to the console as they would in production; the framework's own chatter does not.
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
            ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning",
        };

        PolicyDecisionProcess = Start("TOEX.Sharing.PolicyDecision", common, new()
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["RabbitMq__Url"] = (await Broker.ServiceUriAsync(Vhost, "policy-decision")).ToString(),
            ["PolicyDecision__PoliciesPath"] = RepoPaths.Policies,
            ["PolicyDecision__KeyRingPath"] = Path.Combine(Root, "keys", "policy-decision"),
            ["PolicyDecision__PublicJwksPath"] = decisionJwks,
        });
        await Ready(PolicyDecisionProcess, () => PolicyDecisionProcess.WaitForOutputAsync("Application started", StartTimeout));

        var audit = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        AuditProcess = Start("TOEX.Sharing.Audit", common, new()
        {
            ["ASPNETCORE_URLS"] = audit.ToString(),
            ["RabbitMq__Url"] = (await Broker.ServiceUriAsync(Vhost, "audit")).ToString(),
            ["Audit__Database"] = Store,
            ["Audit__ConnectionString"] = auditConnection,
            ["Audit__DecisionJwksPath"] = decisionJwks,
            ["Audit__BlindIndexKeyPath"] = blindIndexKey,
            ["Audit__KeyRingPath"] = Path.Combine(Root, "keys", "audit"),
            ["Audit__PublicJwksPath"] = Path.Combine(Root, "audit.jwks.json"),
        });

        Gateway = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        GatewayProcess = Start("TOEX.Sharing.Gateway", common, new()
        {
            ["ASPNETCORE_URLS"] = Gateway.ToString(),
            ["RabbitMq__Url"] = (await Broker.ServiceUriAsync(Vhost, "gateway")).ToString(),
            ["Gateway__Database"] = Store,
            ["Gateway__ConnectionString"] = gatewayConnection,
            ["Gateway__KeyRingPath"] = Path.Combine(Root, "keys", "broker"),
            ["Gateway__PartnerKeysPath"] = partnerKeys,
            ["Gateway__DecisionJwksPath"] = decisionJwks,
            ["Gateway__AuditJwksPath"] = Path.Combine(Root, "audit.jwks.json"),
            ["Gateway__PoliciesPath"] = RepoPaths.Policies,
            ["Gateway__BlindIndexKeyPath"] = blindIndexKey,
            ["Gateway__Webhooks__KeyPath"] = Path.Combine(Root, "keys", "webhook"),
            // Each benchmark client is one caller sending far more than a person would: the limit is raised for this
            // run only, never in the service's defaults (Limits:PermitsPerWindow, 6000 a minute).
            ["Limits__PermitsPerWindow"] = "1000000",
            ["Limits__PermitsPerWindowPerOrganisation"] = "10000000",
        });
        await Ready(AuditProcess, () => AuditProcess.WaitForHttpAsync(new Uri(audit, "/health"), StartTimeout));
        await Ready(GatewayProcess, () => GatewayProcess.WaitForHttpAsync(new Uri(Gateway, "/health"), StartTimeout));
    }

    private ChildProcess Start(string project, Dictionary<string, string?> common, Dictionary<string, string?> own)
    {
        var environment = new Dictionary<string, string?>(common);
        foreach (var (key, value) in own)
        {
            environment[key] = value;
        }
        // A working directory of its own, apart from the stores and keys, as a deployed service's content root is (/app): the host
        // watches its content root and everything under it for configuration changes, so a store written there would cost every
        // service an inotify event per write (measured: 5% of the gateway's CPU when the stores sat in its working directory).
        var workingDirectory = Directory.CreateDirectory(Path.Combine(Root, "run", project)).FullName;
        var process = ChildProcess.StartDotnet(ChildProcess.BuiltServicePath(project), environment, name: project,
            workingDirectory: workingDirectory, outputLines: 200);
        processes.Add(process);
        return process;
    }

    private static async Task Ready(ChildProcess process, Func<Task> wait)
    {
        try
        {
            await wait();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{process.Name} did not start: {e.Message}", e);
        }
    }

    /// <summary>A development-issuer token for a caller of <paramref name="organisation"/>.</summary>
    public AuthenticationHeaderValue Token(string organisation, string subject, params string[] roles)
    {
        using var issuer = DevIssuer.OpenOrCreate(DevIssuerDirectory, TimeProvider.System);
        return new AuthenticationHeaderValue("Bearer", issuer.CreateToken(organisation, roles, subject, TimeSpan.FromHours(2)));
    }

    /// <summary>
    /// How many entries the audit ledger holds, read from its store beside the running audit worker: one past the last
    /// index (entries are numbered from 0 without gaps, the tree's leaves), a lookup of the primary key's last row
    /// however long the ledger has grown, where counting the rows would read them all.
    /// </summary>
    public async Task<long> LedgerEntriesAsync()
    {
        if (Store == Stores.Sqlite && !File.Exists(AuditDatabase))
        {
            return 0;
        }
        await using DbConnection connection = Store == Stores.PostgreSql
            ? new NpgsqlConnection(auditConnection)
            : new SqliteConnection(auditConnection + ";Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT COALESCE(MAX("Index") + 1, 0) FROM "Entries" """;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The recent output of every service, for a failure.</summary>
    public string RecentOutput() => string.Join("\n", processes.Select(p => p.FormatRecentOutput(30)));

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }
        if (pushSink is not null)
        {
            await pushSink.DisposeAsync();
        }
        await Broker.DisposeAsync();
        // The PostgreSQL cluster stops (and its folder goes) when this process exits.
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }
}

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.Faults.Tests;

/// <summary>The services of a fault run.</summary>
public enum Service
{
    PolicyDecision,
    Audit,
    Gateway,
}

/// <summary>What a fault run's services connect to, and how.</summary>
public sealed class FaultStackOptions
{
    /// <summary>The URL each service connects to the broker with (its own user), by service name on the broker.</summary>
    public required Func<string, Task<Uri>> BrokerUri { get; init; }

    /// <summary>More nodes of a cluster (<c>host:port</c>, <c>RabbitMq:Nodes</c>).</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>Where the push partners' webhooks go (default: the stack's own receiver).</summary>
    public Func<Uri, Uri>? PartnerEndpoint { get; init; }

    /// <summary>A PostgreSQL server for the gateway's and the audit worker's stores (a database each); SQLite files when null.</summary>
    public PostgresServer? Postgres { get; init; }

    /// <summary>More settings of every service (environment variables).</summary>
    public Dictionary<string, string?> Settings { get; init; } = [];
}

/// <summary>
/// The three services as separate processes for a fault run: their own keys, stores (SQLite files, or databases on
/// <see cref="FaultStackOptions.Postgres"/>) and development issuer,
/// the clock at <see cref="StartsAt"/>, the push partners (wmp, staffs, bcc-childrens, safe-haven) answered by one
/// receiver that records every webhook, and the pull partner nca reading its feed all along. Any service can be killed
/// (SIGKILL, whatever it was doing) and started again on the same store and port.
/// </summary>
public sealed class FaultServices : IAsyncDisposable
{
    public const string StartsAt = "2026-11-25T12:00:00Z";

    private static readonly string[] Partners =
        ["rocu-wm", "wmp", "staffs", "nca", "border-force-mids", "bcc-childrens", "bsol-nhs-safeguarding", "safe-haven"];

    private static readonly string[] PushPartners = ["wmp", "staffs", "bcc-childrens", "safe-haven"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly Dictionary<Service, Dictionary<string, string?>> _environment = [];
    private readonly Dictionary<Service, ChildProcess> _processes = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task? _feedReader;

    private FaultServices(string root) => Root = root;

    public string Root { get; }
    public Uri Gateway { get; private set; } = null!;
    public Uri Audit { get; private set; } = null!;
    public WebhookReceiver Receiver { get; private set; } = null!;
    public PartnerLog Received { get; } = new();
    public TestStore GatewayStore { get; private set; } = null!;
    public TestStore AuditStore { get; private set; } = null!;

    private string DevIssuerDirectory => Path.Combine(Root, "dev-issuer");

    public static async Task<FaultServices> StartAsync(FaultStackOptions options)
    {
        var stack = new FaultServices(Directory.CreateTempSubdirectory("toex-faults-").FullName);
        try
        {
            await stack.InitialiseAsync(options);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    private async Task InitialiseAsync(FaultStackOptions options)
    {
        var partnerKeys = Path.Combine(Root, "partners");
        foreach (var partner in Partners)
        {
            KeyFiles.Generate(partnerKeys, partner == "nca" ? KeyKind.Rsa : KeyKind.EC, KeyUse.Encryption, partner);
        }
        Receiver = await WebhookReceiver.StartAsync();
        var endpoint = options.PartnerEndpoint?.Invoke(Receiver.Url) ?? Receiver.Url;
        foreach (var partner in PushPartners)
        {
            await File.WriteAllTextAsync(Path.Combine(partnerKeys, partner + ".webhook.json"),
                new JsonObject { ["endpoint"] = endpoint.ToString(), ["localDevelopment"] = true }.ToJsonString());
        }
        GatewayStore = options.Postgres is { } postgres ? await TestStore.CreateAsync(postgres, "gateway") : TestStore.Create(StoreKind.Sqlite, Root, "gateway");
        AuditStore = options.Postgres is { } server ? await TestStore.CreateAsync(server, "audit") : TestStore.Create(StoreKind.Sqlite, Root, "audit");

        var decisionJwks = Path.Combine(Root, "policy-decision.jwks.json");
        var auditJwks = Path.Combine(Root, "audit.jwks.json");
        var common = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevIssuer__Directory"] = DevIssuerDirectory,
            ["Clock__StartsAt"] = StartsAt,
            ["Audit__Custodians__0"] = "rocu-wm",
            ["Operations__Organisations__0"] = "rocu-wm",
            ["Gateway__BlindIndexKeyPath"] = Path.Combine(Root, "keys", "blind-index.key"),
            ["Audit__BlindIndexKeyPath"] = Path.Combine(Root, "keys", "blind-index.key"),
            ["Limits__PermitsPerWindow"] = "1000000",
            ["Limits__PermitsPerWindowPerOrganisation"] = "10000000",
            // The services' last lines (printed when a run fails) are their warnings and faults, not every SQL statement.
            ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning",
        };
        for (var i = 0; i < options.Nodes.Count; i++)
        {
            common[$"RabbitMq__Nodes__{i}"] = options.Nodes[i];
        }
        foreach (var (key, value) in options.Settings)
        {
            common[key] = value;
        }

        var decisionPort = FreePort.Next();
        _environment[Service.PolicyDecision] = With(common, new()
        {
            ["RabbitMq__Url"] = (await options.BrokerUri("policy-decision")).ToString(),
            ["PolicyDecision__PoliciesPath"] = RepoPaths.Policies,
            ["PolicyDecision__KeyRingPath"] = Path.Combine(Root, "keys", "policy-decision"),
            ["PolicyDecision__PublicJwksPath"] = decisionJwks,
            // Its health endpoints on a port of its own (its default, 5082, is a local run's).
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{decisionPort}",
        });
        Audit = new Uri($"http://127.0.0.1:{FreePort.Next(p => p != decisionPort)}");
        _environment[Service.Audit] = With(common, new()
        {
            ["ASPNETCORE_URLS"] = Audit.ToString(),
            ["RabbitMq__Url"] = (await options.BrokerUri("audit")).ToString(),
            ["Audit__Database"] = AuditStore.Database,
            ["Audit__ConnectionString"] = AuditStore.ConnectionString,
            ["Audit__DecisionJwksPath"] = decisionJwks,
            ["Audit__KeyRingPath"] = Path.Combine(Root, "keys", "audit"),
            ["Audit__PublicJwksPath"] = auditJwks,
        });
        Gateway = new Uri($"http://127.0.0.1:{FreePort.Next(p => p != Audit.Port && p != decisionPort)}");
        _environment[Service.Gateway] = With(common, new()
        {
            ["ASPNETCORE_URLS"] = Gateway.ToString(),
            ["RabbitMq__Url"] = (await options.BrokerUri("gateway")).ToString(),
            ["Gateway__Database"] = GatewayStore.Database,
            ["Gateway__ConnectionString"] = GatewayStore.ConnectionString,
            ["Gateway__KeyRingPath"] = Path.Combine(Root, "keys", "broker"),
            ["Gateway__DataAtRestKeyPath"] = Path.Combine(Root, "keys", "data-at-rest"),
            ["Gateway__PartnerKeysPath"] = partnerKeys,
            ["Gateway__DecisionJwksPath"] = decisionJwks,
            ["Gateway__AuditJwksPath"] = auditJwks,
            ["Gateway__PoliciesPath"] = RepoPaths.Policies,
            ["Gateway__Webhooks__KeyPath"] = Path.Combine(Root, "keys", "webhook"),
            ["Gateway__Webhooks__FirstRetryDelay"] = "00:00:00.200",
            ["Gateway__Webhooks__MaxRetryDelay"] = "00:00:02",
            ["Gateway__Webhooks__Jitter"] = "0",
            ["Gateway__Webhooks__AttemptTimeout"] = "00:00:05",
            ["Gateway__RetryAfterSeconds"] = "1",
            ["Gateway__PublishTimeout"] = "00:00:05",
        });
        foreach (var (key, value) in options.Settings)
        {
            _environment[Service.Gateway][key] = value;
        }

        // PolicyDecision first: it writes the decision keys the other two read at start.
        Start(Service.PolicyDecision);
        await _processes[Service.PolicyDecision].WaitForOutputAsync("Application started", StartTimeout);
        Start(Service.Audit);
        Start(Service.Gateway);
        await WaitReadyAsync(Service.Audit);
        await WaitReadyAsync(Service.Gateway);
        _feedReader = Task.Run(() => ReadFeedAsync("nca", _stopping.Token));
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> common, Dictionary<string, string?> own)
    {
        var environment = new Dictionary<string, string?>(common);
        foreach (var (key, value) in own)
        {
            environment[key] = value;
        }
        return environment;
    }

    private void Start(Service service)
    {
        var project = $"TOEX.Sharing.{service}";
        _processes[service] = ChildProcess.StartDotnet(ChildProcess.BuiltServicePath(project), _environment[service], name: project,
            workingDirectory: Root);
    }

    /// <summary>Waits until the service answers <c>/health</c> 200 (PolicyDecision: until it has started).</summary>
    public async Task WaitReadyAsync(Service service, TimeSpan? timeout = null)
    {
        var process = _processes[service];
        if (service == Service.PolicyDecision)
        {
            await process.WaitForOutputAsync("Application started", timeout ?? StartTimeout);
            return;
        }
        await process.WaitForHttpAsync(new Uri(service == Service.Gateway ? Gateway : Audit, "/health"), timeout ?? StartTimeout);
    }

    /// <summary>SIGKILL: the service and everything it started, whatever it was doing.</summary>
    public async Task KillAsync(Service service)
    {
        await _processes[service].DisposeAsync();
        // Gone until restarted: not asked for its output (a disposed process has none to give).
        _processes.Remove(service);
    }

    /// <summary>Starts a killed service again on the same store, broker and port.</summary>
    public async Task RestartAsync(Service service, bool waitReady = true)
    {
        Start(service);
        if (waitReady)
        {
            await WaitReadyAsync(service);
        }
    }

    /// <summary>A client with a development-issuer token of <paramref name="organisation"/>.</summary>
    public HttpClient Client(Uri service, string organisation, params string[] roles)
    {
        var client = new HttpClient { BaseAddress = service, Timeout = TimeSpan.FromSeconds(30) };
        using var issuer = DevIssuer.OpenOrCreate(DevIssuerDirectory, TimeProvider.System);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            issuer.CreateToken(organisation, roles, $"{organisation}-faults", TimeSpan.FromHours(4)));
        return client;
    }

    /// <summary>The pull partner reads its feed as its system would, all run long, through every fault.</summary>
    private async Task ReadFeedAsync(string partner, CancellationToken cancellationToken)
    {
        using var client = Client(Gateway, partner, "Feed.Read");
        client.Timeout = TimeSpan.FromSeconds(10);
        var cursor = "0";
        while (!cancellationToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                using var response = await client.GetAsync($"/api/v1/feed?after={cursor}&limit=500", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    var page = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!;
                    var items = page["items"]!.AsArray();
                    foreach (var item in items)
                    {
                        if ((string?)item!["kind"] == "package")
                        {
                            Received.Add(new ReceivedCopy(Guid.Parse((string)item["packageId"]!), partner, "feed", item["cursor"]!.ToString()));
                        }
                    }
                    cursor = page["next"]?.ToString() ?? cursor;
                    full = items.Count == 500;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The gateway is down or slow: the partner tries again, as it would.
            }
            if (!full)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>What the partners received: every push accepted by the receiver, every feed item read.</summary>
    public PartnerLog Deliveries()
    {
        var log = new PartnerLog();
        foreach (var copy in Received.Copies)
        {
            log.Add(copy);
        }
        foreach (var request in Receiver.Requests)
        {
            var body = JsonNode.Parse(request.Body)!;
            if ((string?)body["type"] == "package.released")
            {
                log.Add(new ReceivedCopy(Guid.Parse((string)body["data"]!["packageId"]!), (string)body["data"]!["recipient"]!, "push", request.Id ?? ""));
            }
        }
        return log;
    }

    /// <summary>The balance of the run so far (<see cref="Balance"/>).</summary>
    public Task<Balance> BalanceAsync(IReadOnlyCollection<Guid> accepted) => Balance.CountAsync(accepted, GatewayStore, AuditStore, Deliveries());

    /// <summary>
    /// The run's balance once it holds (or the last count at <paramref name="timeout"/>), and then the whole ledger
    /// proved as an auditor proves it: the custodian's evidence bundle of every entry, checked offline by
    /// <c>toex audit verify</c> against the audit service's published keys (every leaf hash, the chain of indexes, the
    /// signed tree head and the consistency proofs). A ledger that does not verify fails the run.
    /// </summary>
    public async Task<Balance> SettleAsync(IReadOnlyCollection<Guid> accepted, TimeSpan timeout)
    {
        var balance = await Balance.SettleAsync(() => BalanceAsync(accepted), timeout);
        if (!balance.Holds)
        {
            return balance;
        }
        using var auditor = Client(Audit, "rocu-wm", "Audit.Read");
        auditor.Timeout = TimeSpan.FromMinutes(2);
        var bundle = Path.Combine(Root, "evidence-bundle.json");
        var jwks = Path.Combine(Root, "audit.published.jwks.json");
        await File.WriteAllTextAsync(bundle, await auditor.GetStringAsync("/api/v1/audit/export"));
        await File.WriteAllTextAsync(jwks, await auditor.GetStringAsync("/.well-known/jwks.json"));
        var verified = await TOEX.Sharing.Cli.Tests.Toex.RunAsync(["audit", "verify", "--bundle", bundle, "--jwks", jwks]);
        var whole = System.Text.RegularExpressions.Regex.Match(verified.Output, @"^Verified (\d+) entries \(indexes 0 to \d+\) against the tree head of size (\d+),",
            System.Text.RegularExpressions.RegexOptions.Multiline);
        var entries = whole.Success ? long.Parse(whole.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
        if (verified.ExitCode != 0 || entries < balance.LedgerEntries || whole.Groups[2].Value != whole.Groups[1].Value)
        {
            throw new Xunit.Sdk.XunitException(
                $"The whole ledger after the run does not verify (at least {balance.LedgerEntries} entries expected):{Environment.NewLine}{verified}");
        }
        return balance with { Ledger = $"all {entries} entries verified offline (toex audit verify)" };
    }

    /// <summary>
    /// The errors and criticals <paramref name="service"/> logged (in its kept output), each with its indented lines: the
    /// message and the exception with its inner exceptions.
    /// </summary>
    public string LoggedFailures(Service service)
    {
        var failures = new List<string>();
        var inFailure = false;
        foreach (var line in _processes[service].RecentOutput())
        {
            inFailure = line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)
                || (inFailure && line.StartsWith(' '));
            if (inFailure)
            {
                failures.Add(line);
            }
        }
        return string.Join(Environment.NewLine, failures);
    }

    /// <summary>The last lines of each service, for a failure message.</summary>
    public string RecentOutput(int lines = 60) => string.Join(Environment.NewLine, _processes.Values.Select(p => p.FormatRecentOutput(lines)));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_feedReader is not null)
        {
            await _feedReader.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        foreach (var process in _processes.Values)
        {
            await process.DisposeAsync();
        }
        if (Receiver is not null)
        {
            await Receiver.DisposeAsync();
        }
        GatewayStore?.Dispose();
        AuditStore?.Dispose();
        _stopping.Dispose();
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

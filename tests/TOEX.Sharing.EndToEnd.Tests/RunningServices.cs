using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using TOEX.Sharing.Sealing;
using TOEX.Sharing.Testing;

namespace TOEX.Sharing.EndToEnd.Tests;

/// <summary>
/// A private RabbitMQ virtual host and the three services as separate processes, with their own keys,
/// stores and development issuer, and the clock starting at <see cref="StartsAt"/>.
/// </summary>
public class RunningServices : IAsyncLifetime
{
    public const string StartsAt = "2026-11-25T12:00:00Z";

    /// <summary>Every registered partner gets a key pair; nca's is RSA, the others EC P-256.</summary>
    public static readonly string[] Partners =
        ["rocu-wm", "wmp", "staffs", "nca", "border-force-mids", "bcc-childrens", "bsol-nhs-safeguarding", "safe-haven"];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly List<ChildProcess> _processes = [];
    private RabbitMqBroker _broker = null!;

    public string Root { get; } = Directory.CreateTempSubdirectory("toex-e2e-").FullName;
    public BrokerVhost Vhost { get; private set; } = null!;
    public Uri Gateway { get; private set; } = null!;
    public Uri Audit { get; private set; } = null!;
    public Dictionary<string, string> PartnerPrivateKeys { get; } = [];
    public ChildProcess GatewayProcess { get; private set; } = null!;
    public ChildProcess AuditProcess { get; private set; } = null!;

    /// <summary>The audit worker's ledger store, for what only someone with access to the database sees or does.</summary>
    public TestStore AuditStore => _auditStore ??= TestStore.Create(StoreKind.Sqlite, Root, "audit");

    private TestStore? _auditStore;
    private Dictionary<string, string?> _common = [];
    private Dictionary<string, string?> _audit = [];

    /// <summary>The npm oidc-provider issuer the gateway also trusts (for rocu-wm and safe-haven systems).</summary>
    public OidcProviderIssuer Oidc { get; private set; } = null!;

    /// <summary>The partner registry: keys, and any <c>PARTNER.webhook.json</c> written before start.</summary>
    public string PartnerKeysDirectory => Path.Combine(Root, "partners");

    /// <summary>More gateway settings (environment variables), set before <see cref="InitializeAsync"/>.</summary>
    public Dictionary<string, string?> GatewaySettings { get; } = [];

    /// <summary>More audit service settings (environment variables), set before <see cref="InitializeAsync"/>.</summary>
    public Dictionary<string, string?> AuditSettings { get; } = [];

    /// <summary>The audit service's port (chosen before start, e.g. for a sign-in redirect address); free port by default.</summary>
    public int AuditPort { get; init; } = FreePort.Next();

    /// <summary>Web clients and users of the OIDC issuer (the IG console's sign-in), set before <see cref="InitializeAsync"/>.</summary>
    public List<OidcWebClient> OidcWebClients { get; } = [];

    public List<OidcUser> OidcUsers { get; } = [];

    /// <summary>The gateway's port, chosen before start (e.g. for the console's link to it); free port by default.</summary>
    public int GatewayPort { get; init; } = FreePort.Next();

    /// <summary>The OIDC issuer's port (its authority is <c>http://127.0.0.1:PORT</c>), chosen before start.</summary>
    public int OidcPort { get; init; } = FreePort.Next();

    private string DevIssuerDirectory => Path.Combine(Root, "dev-issuer");
    private string DecisionJwks => Path.Combine(Root, "policy-decision.jwks.json");
    private string AuditJwks => Path.Combine(Root, "audit.jwks.json");

    /// <summary>Added to every service's environment (telemetry export, for instance).</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraEnvironment => new Dictionary<string, string?>();

    /// <summary>
    /// Where the services keep their signing keys: <c>local</c> (files under <see cref="Root"/>) or <c>pkcs11</c> (every
    /// signing key and the data-at-rest key in this test run's SoftHSM2 token). <c>TOEX_E2E_KEY_CUSTODY=pkcs11</c> runs
    /// every end-to-end test with the token; <see cref="Pkcs11Services"/> always does.
    /// </summary>
    protected virtual string KeyCustody => Environment.GetEnvironmentVariable("TOEX_E2E_KEY_CUSTODY") is { Length: > 0 } chosen ? chosen : "local";

    /// <summary>The label prefix of this stack's objects in the token (stacks of one run share the token).</summary>
    public string Pkcs11LabelPrefix { get; } = "e2e-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The services' KeyCustody settings for <see cref="KeyCustody"/>.</summary>
    private Dictionary<string, string?> KeyCustodySettings()
    {
        if (KeyCustody != "pkcs11")
        {
            return [];
        }
        var hsm = SoftHsm.Instance;
        // The blind-index key, which the gateway and the audit service share, is made once by an operator, never by a service.
        using (var token = TOEX.Sharing.KeyCustody.Pkcs11.Pkcs11Token.Open(hsm.Library, SoftHsm.TokenLabel, System.Text.Encoding.UTF8.GetBytes(SoftHsm.UserPin)))
        using (var blindIndex = new TOEX.Sharing.KeyCustody.Pkcs11.Pkcs11KeyCustody(token, TOEX.Sharing.KeyCustody.KeyPurpose.BlindIndex, Pkcs11LabelPrefix, createMissing: false,
            TimeProvider.System, TimeSpan.FromSeconds(1)))
        {
            blindIndex.Rotate();
        }
        return new Dictionary<string, string?>(hsm.Environment)
        {
            ["KeyCustody__Provider"] = "pkcs11",
            ["KeyCustody__Pkcs11__Library"] = hsm.Library,
            ["KeyCustody__Pkcs11__TokenLabel"] = SoftHsm.TokenLabel,
            ["KeyCustody__Pkcs11__PinFile"] = hsm.PinFile,
            ["KeyCustody__Pkcs11__LabelPrefix"] = Pkcs11LabelPrefix,
            // A rotation made in the token is used within a second (the default is 30 s).
            ["KeyCustody__RefreshInterval"] = "00:00:01",
        };
    }

    public virtual async Task InitializeAsync()
    {
        _broker = await RabbitMqBroker.GetSharedAsync();
        Vhost = await _broker.CreateVirtualHostAsync("e2e");
        var partnerKeys = PartnerKeysDirectory;
        foreach (var partner in Partners)
        {
            var key = KeyFiles.Generate(partnerKeys, partner == "nca" ? KeyKind.Rsa : KeyKind.EC, KeyUse.Encryption, partner);
            PartnerPrivateKeys[partner] = KeyFiles.ReadPrivateJwk(key.PrivateJwkPath);
        }

        Oidc = await OidcProviderIssuer.StartAsync(Root, new Dictionary<string, (string, string[])>
        {
            ["rocu-wm-analytics"] = ("rocu-wm", ["Packages.Submit"]),
            ["safe-haven-case-system"] = ("safe-haven", ["Feed.Read"]),
            ["wmp-records"] = ("wmp", ["Feed.Read"]),
        }, OidcWebClients, OidcUsers, OidcPort);

        var common = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevIssuer__Directory"] = DevIssuerDirectory,
            ["Clock__StartsAt"] = StartsAt,
            // The ledger's custodian and the broker's operator (both services read both).
            ["Audit__Custodians__0"] = "rocu-wm",
            ["Operations__Organisations__0"] = "rocu-wm",
            // The gateway and the audit service share the subjects' blind-index key.
            ["Gateway__BlindIndexKeyPath"] = Path.Combine(Root, "keys", "blind-index.key"),
            ["Audit__BlindIndexKeyPath"] = Path.Combine(Root, "keys", "blind-index.key"),
        };
        foreach (var (key, value) in ExtraEnvironment.Concat(KeyCustodySettings()))
        {
            common[key] = value;
        }

        // Each service connects as its own broker user, with only the permissions deploy/rabbitmq/definitions.json gives it.
        var policyDecision = Start("TOEX.Sharing.PolicyDecision", common, new()
        {
            // Its health endpoints only (probes); a port of its own so parallel stacks do not collide.
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["RabbitMq__Url"] = (await _broker.ServiceUriAsync(Vhost, "policy-decision")).ToString(),
            ["PolicyDecision__PoliciesPath"] = RepoPaths.Policies,
            ["PolicyDecision__KeyRingPath"] = Path.Combine(Root, "keys", "policy-decision"),
            ["PolicyDecision__PublicJwksPath"] = DecisionJwks,
        });
        await Ready(policyDecision, () => policyDecision.WaitForOutputAsync("Application started", StartTimeout));

        var auditPort = AuditPort;
        Audit = new Uri($"http://127.0.0.1:{auditPort}");
        _common = common;
        _audit = new()
        {
            ["ASPNETCORE_URLS"] = Audit.ToString(),
            ["RabbitMq__Url"] = (await _broker.ServiceUriAsync(Vhost, "audit")).ToString(),
            ["Audit__Database"] = AuditStore.Database,
            ["Audit__ConnectionString"] = AuditStore.ConnectionString,
            ["Audit__DecisionJwksPath"] = DecisionJwks,
            ["Audit__KeyRingPath"] = Path.Combine(Root, "keys", "audit"),
            ["Audit__PublicJwksPath"] = AuditJwks,
        };
        foreach (var (key, value) in AuditSettings)
        {
            _audit[key] = value;
        }
        AuditProcess = Start("TOEX.Sharing.Audit", common, _audit);
        var audit = AuditProcess;

        var gatewayPort = GatewayPort;
        Gateway = new Uri($"http://127.0.0.1:{gatewayPort}");
        var gateway = new Dictionary<string, string?>(Oidc.TrustedAs("oidc-test", 0, "rocu-wm", "safe-haven"))
        {
            ["ASPNETCORE_URLS"] = Gateway.ToString(),
            ["RabbitMq__Url"] = (await _broker.ServiceUriAsync(Vhost, "gateway")).ToString(),
            ["Gateway__ConnectionString"] = $"Data Source={Path.Combine(Root, "gateway.db")}",
            ["Gateway__KeyRingPath"] = Path.Combine(Root, "keys", "broker"),
            ["Gateway__PartnerKeysPath"] = partnerKeys,
            ["Gateway__DecisionJwksPath"] = DecisionJwks,
            ["Gateway__AuditJwksPath"] = AuditJwks,
            ["Gateway__PoliciesPath"] = RepoPaths.Policies,
            ["Gateway__Webhooks__KeyPath"] = Path.Combine(Root, "keys", "webhook"),
        };
        foreach (var (key, value) in GatewaySettings)
        {
            gateway[key] = value;
        }
        GatewayProcess = Start("TOEX.Sharing.Gateway", common, gateway);
        await Ready(audit, () => audit.WaitForHttpAsync(new Uri(Audit, "/health"), StartTimeout));
        await Ready(GatewayProcess, () => GatewayProcess.WaitForHttpAsync(new Uri(Gateway, "/health"), StartTimeout));
    }

    /// <summary>Kills the audit worker and everything it started: no graceful stop, whatever it was doing.</summary>
    public async Task KillAuditAsync()
    {
        await AuditProcess.DisposeAsync();
        _processes.Remove(AuditProcess);
    }

    /// <summary>Starts the audit worker again on the same store, broker and port, and waits until it is ready.</summary>
    public async Task RestartAuditAsync()
    {
        AuditProcess = Start("TOEX.Sharing.Audit", _common, _audit);
        var audit = AuditProcess;
        await Ready(audit, () => audit.WaitForHttpAsync(new Uri(Audit, "/health"), StartTimeout));
    }

    private ChildProcess Start(string project, Dictionary<string, string?> common, Dictionary<string, string?> own)
    {
        var environment = new Dictionary<string, string?>(common);
        foreach (var (key, value) in own)
        {
            environment[key] = value;
        }
        var process = ChildProcess.StartDotnet(ChildProcess.BuiltServicePath(project), environment, name: project, workingDirectory: Root);
        _processes.Add(process);
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
            throw new InvalidOperationException($"{process.Name} did not start: {e.Message}\n{process.FormatRecentOutput(80)}", e);
        }
    }

    /// <summary>A client for a service carrying a development-issuer token.</summary>
    public HttpClient Client(Uri service, string organisation, params string[] roles) => ClientAs(service, organisation, $"{organisation}-e2e", roles);

    /// <summary>A client for a named person of an organisation.</summary>
    public HttpClient ClientAs(Uri service, string organisation, string subject, params string[] roles)
    {
        var client = new HttpClient { BaseAddress = service, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(organisation, subject, roles));
        return client;
    }

    /// <summary>A development-issuer token both services accept.</summary>
    public string Token(string organisation, string subject, params string[] roles)
    {
        using var issuer = DevIssuer.OpenOrCreate(DevIssuerDirectory, TimeProvider.System);
        return issuer.CreateToken(organisation, roles, subject, TimeSpan.FromMinutes(30));
    }

    public async Task<string> BrokerJwksAsync()
    {
        using var client = new HttpClient { BaseAddress = Gateway };
        return await client.GetStringAsync("/.well-known/jwks.json");
    }

    /// <summary>Polls until <paramref name="probe"/> answers non-null, or fails with the services' recent output.</summary>
    public Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null) where T : class =>
        Eventually.ValueAsync(probe, timeout ?? TimeSpan.FromSeconds(60), () => $"Timed out waiting for {what}.\n"
            + string.Join("\n", _processes.Select(p => p.FormatRecentOutput(40))));

    public virtual async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        if (Oidc is not null)
        {
            await Oidc.DisposeAsync();
        }
        await _broker.DeleteVirtualHostAsync(Vhost.Name);
        _auditStore?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }

    public static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body ?? throw new InvalidOperationException("Empty JSON body.");
    }
}
